package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/api/chart"
)

// The statistics page (issue 13 item 8): per unit and, for a system administrator, for every
// unit, over a period — what the ward's report counts: certifications, copies, pages, fees,
// refusals by reason, requests received, returned on time / late / overdue, and the citizens'
// satisfaction. Charts are drawn on the server (api/chart: inline SVG with the same figures in
// a table beside); CSV and XLSX carry the same table.

// unitStats is one row of the statistics table.
type unitStats struct {
	Unit string
	*chungthuc.Statistics
}

// OnTimePct and SatisfactionPct are the rates as printed ("" when nothing to divide by).
func (u unitStats) OnTimePct() string       { return percent(u.OnTimeRate()) }
func (u unitStats) SatisfactionPct() string { return percent(u.SatisfactionRate()) }

// Satisfied is the number of "satisfied" ratings.
func (u unitStats) Satisfied() int64 { return u.Ratings[chungthuc.Satisfied] }

// percent prints a rate with two decimals and a Vietnamese decimal comma ("96,45 %"), or
// "—" when it is undefined.
func percent(pct float64, ok bool) string {
	if !ok {
		return "—"
	}
	return strings.Replace(fmt.Sprintf("%.2f %%", pct), ".", ",", 1)
}

// statsPeriod reads ?from= and ?to= (days, inclusive; default: this month up to today).
func (s *Server) statsPeriod(r *http.Request) (from, to time.Time) {
	now := dayStart(s.Now())
	from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, chungthuc.Vietnam)
	to = now
	q := r.URL.Query()
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), chungthuc.Vietnam); err == nil {
		from = t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), chungthuc.Vietnam); err == nil {
		to = t
	}
	return from, to
}

// statsRows computes the rows of the units the principal may see (its own; every unit for a
// system administrator) and their total.
func (s *Server) statsRows(r *http.Request, from, to time.Time) ([]unitStats, unitStats, error) {
	p := who(r)
	var units []*chungthuc.Unit
	switch p.Role {
	case chungthuc.RoleSystemAdmin:
		all, err := s.Register.Units(r.Context())
		if err != nil {
			return nil, unitStats{}, err
		}
		units = all
	case chungthuc.RoleUnitAdmin, chungthuc.RoleOfficer, chungthuc.RoleClerk:
		u, err := s.unitOf(r)
		if err != nil {
			return nil, unitStats{}, err
		}
		units = []*chungthuc.Unit{u}
	}
	total := unitStats{Unit: messages[langOf(r)]["Total"], Statistics: &chungthuc.Statistics{
		RefusalReasons: map[chungthuc.RefusalReason]int64{}, Ratings: map[chungthuc.Satisfaction]int64{}}}
	var rows []unitStats
	now := s.Now()
	for _, u := range units {
		st, err := s.Register.Statistics(r.Context(), u.ID, from, to.AddDate(0, 0, 1), now)
		if err != nil {
			return nil, unitStats{}, err
		}
		rows = append(rows, unitStats{Unit: u.Name, Statistics: st})
		total.Add(st)
	}
	return rows, total, nil
}

// statsColumns are the exported table's columns, in Vietnamese (the report's language) and
// the values of a row.
var statsColumns = []string{"Đơn vị", "Từ ngày", "Đến ngày", "Số chứng thực", "Số bản sao", "Đã thu hồi", "Số trang", "Lệ phí (VNĐ)",
	"Từ chối", "Hồ sơ tiếp nhận", "Trả đúng hạn", "Trả quá hạn", "Quá hạn chưa trả", "Đang trong hạn", "Tỷ lệ đúng hạn (%)",
	"Hài lòng", "Bình thường", "Không hài lòng", "Lượt đánh giá", "Tỷ lệ hài lòng (%)"}

// statsValues are a row's cells: the unit name, the period's days, then numbers (rates with
// two decimals, nil when undefined).
func statsValues(u unitStats, from, to time.Time) []any {
	rate := func(pct float64, ok bool) any {
		if !ok {
			return nil
		}
		return float64(int64(pct*100+0.5)) / 100
	}
	st := u.Statistics
	return []any{u.Unit, from.Format("2006-01-02"), to.Format("2006-01-02"), st.Certifications, st.Copies, st.Revoked, st.Pages, st.Fees,
		st.Refusals, st.Received, st.OnTime, st.Late, st.Overdue, st.Pending, rate(st.OnTimeRate()),
		st.Ratings[chungthuc.Satisfied], st.Ratings[chungthuc.Neutral], st.Ratings[chungthuc.NotSatisfied], st.Rated(), rate(st.SatisfactionRate())}
}

// stats shows the statistics page; ?format=csv or ?format=xlsx downloads the table.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	setLang(w, r)
	from, to := s.statsPeriod(r)
	rows, total, err := s.statsRows(r, from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// The exports are in Vietnamese whatever the page's language.
	export := append(append([]unitStats{}, rows...), unitStats{Unit: "Tổng cộng", Statistics: total.Statistics})
	name := fmt.Sprintf("thong-ke-%s-%s", from.Format("20060102"), to.Format("20060102"))
	switch r.URL.Query().Get("format") {
	case "csv":
		s.statsCSV(w, r, export, from, to, name)
		return
	case "xlsx":
		s.statsXLSX(w, r, export, from, to, name)
		return
	}
	data := map[string]any{"Rows": rows, "Sum": total, "From": from.Format("2006-01-02"), "To": to.Format("2006-01-02"),
		"Charts": statsCharts(r, rows, total)}
	if who(r).Role == chungthuc.RoleSystemAdmin {
		// What the storage checks found, for the one who can act on it.
		if fs, err := s.Certify.RefreshFindings(r.Context()); err != nil {
			s.log.Error("reading findings", "request_id", requestID(r), "err", err)
		} else if len(fs) > 0 {
			data["Findings"] = fs[:min(len(fs), 100)]
		}
	}
	s.render(w, r, "stats.html", data)
}

// statsChart is one chart of the page with its twin table.
type statsChart struct {
	Title      string
	SVG, Table template.HTML
}

// statsCharts draws the deadline, satisfaction and refusal charts of the total, and the
// certifications per unit when there are several units.
func statsCharts(r *http.Request, rows []unitStats, total unitStats) []statsChart {
	t := messages[langOf(r)]
	st := total.Statistics
	charts := []chart.Bars{
		{Title: t["ChartDeadline"], Bars: []chart.Bar{
			{Label: t["StatsOnTime"], Value: float64(st.OnTime)}, {Label: t["StatsLate"], Value: float64(st.Late)},
			{Label: t["StatsOverdue"], Value: float64(st.Overdue)}, {Label: t["StatsPending"], Value: float64(st.Pending)}}},
		{Title: t["ChartRatings"], Bars: []chart.Bar{
			{Label: t["rating.satisfied"], Value: float64(st.Ratings[chungthuc.Satisfied])},
			{Label: t["rating.neutral"], Value: float64(st.Ratings[chungthuc.Neutral])},
			{Label: t["rating.not_satisfied"], Value: float64(st.Ratings[chungthuc.NotSatisfied])}}},
	}
	refusals := chart.Bars{Title: t["ChartRefusals"], Empty: t["NoData"]}
	for _, x := range chungthuc.RefusalReasons {
		if n := st.RefusalReasons[x.Code]; n > 0 {
			label := x.Label
			if langOf(r) == "en" && refusalReasonsEN[x.Code] != "" {
				label = refusalReasonsEN[x.Code]
			}
			refusals.Bars = append(refusals.Bars, chart.Bar{Label: label, Value: float64(n)})
		}
	}
	charts = append(charts, refusals)
	if len(rows) > 1 {
		per := chart.Bars{Title: t["ChartCertified"]}
		for _, u := range rows {
			per.Bars = append(per.Bars, chart.Bar{Label: u.Unit, Value: float64(u.Certifications)})
		}
		charts = append(charts, per)
	}
	out := make([]statsChart, len(charts))
	for i, c := range charts {
		out[i] = statsChart{Title: c.Title, SVG: c.SVG(), Table: c.Table(t["Kind"], t["StatsCount"])}
	}
	return out
}

// statsCSV writes the table as CSV (UTF-8 with a BOM for spreadsheet software; every text
// cell neutralised against formulas).
func (s *Server) statsCSV(w http.ResponseWriter, r *http.Request, rows []unitStats, from, to time.Time, name string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	_, _ = w.Write([]byte("\xEF\xBB\xBF")) // an error shows at the Flush below
	cw := csv.NewWriter(w)
	_ = cw.Write(statsColumns)
	for _, u := range rows {
		var rec []string
		for _, v := range statsValues(u, from, to) {
			switch v := v.(type) {
			case nil:
				rec = append(rec, "")
			case string:
				rec = append(rec, chungthuc.CSVCell(v))
			case float64:
				rec = append(rec, fmt.Sprintf("%.2f", v))
			default:
				rec = append(rec, fmt.Sprint(v))
			}
		}
		_ = cw.Write(rec) // errors are kept by the writer and reported by Error
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.log.Warn("statistics CSV not sent whole", "request_id", requestID(r), "err", err)
	}
}

// statsXLSX writes the table as an XLSX workbook (excelize): one sheet, the header row bold
// and frozen, numbers as numbers.
func (s *Server) statsXLSX(w http.ResponseWriter, r *http.Request, rows []unitStats, from, to time.Time, name string) {
	b, err := statsWorkbook(rows, from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.xlsx"`, name))
	_, _ = w.Write(b) // a client that went away gets a short file
}

// statsSheet is the name of the workbook's sheet.
const statsSheet = "Thống kê"

func statsWorkbook(rows []unitStats, from, to time.Time) ([]byte, error) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }() // in memory
	if err := f.SetSheetName("Sheet1", statsSheet); err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	header := make([]any, len(statsColumns))
	for i, c := range statsColumns {
		header[i] = c
	}
	if err := f.SetSheetRow(statsSheet, "A1", &header); err != nil {
		return nil, err
	}
	last, _ := excelize.CoordinatesToCellName(len(statsColumns), 1)
	if err := f.SetCellStyle(statsSheet, "A1", last, bold); err != nil {
		return nil, err
	}
	for i, u := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		vals := statsValues(u, from, to)
		// Text cells are written as text (excelize does not evaluate them); the leading
		// quote of CSVCell is not needed here.
		if err := f.SetSheetRow(statsSheet, cell, &vals); err != nil {
			return nil, err
		}
	}
	if err := f.SetPanes(statsSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if err := f.SetColWidth(statsSheet, "A", "A", 40); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
