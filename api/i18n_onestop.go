package api

// The words of intake and deadlines, the citizens' rating and the statistics (issue 13
// items 6–8), merged into messages.
var onestopMessages = map[string]map[string]string{
	"vi": {
		"RateTitle": "Đánh giá mức độ hài lòng", "RateIntro": "Bạn hài lòng với việc chứng thực bản sao này đến mức nào? Mỗi bản sao được đánh giá một lần; đánh giá không được công bố, chỉ được tổng hợp vào số liệu thống kê của cơ quan.",
		"RateQuestion": "Mức độ hài lòng", "rating.satisfied": "Hài lòng", "rating.neutral": "Bình thường", "rating.not_satisfied": "Không hài lòng",
		"RateComment": "Ý kiến (không bắt buộc)", "RateCommentHelp": "Tối đa 1000 ký tự. Không ghi thông tin cá nhân.",
		"RateCodeHelp": "Mã truy cập in trên biên nhận: chỉ người giữ biên nhận mới đánh giá được.", "RateSend": "Gửi đánh giá",
		"RateThanks": "Cảm ơn bạn đã đánh giá. Ý kiến của bạn giúp cơ quan phục vụ tốt hơn.", "RateBackToCopy": "Quay lại trang bản sao",
		"RateNotOpen": "Bản sao này không còn hiệu lực nên không nhận đánh giá.", "RateLink": "Đánh giá mức độ hài lòng",
		"RateAfterDownload": "Sau khi tải bản sao, bạn có thể đánh giá dịch vụ:",
		"Step4":             "quét mã QR này hoặc mở đường dẫn, nhập mã truy cập (mỗi bản sao được đánh giá một lần).",
		"ReceivedAt":        "Tiếp nhận lúc", "DueAt": "Hạn trả", "ReturnedAt": "Trả kết quả lúc", "Deadline": "Thời hạn",
		"due.on_time": "Đúng hạn", "due.late": "Quá hạn", "due.pending": "Trong hạn", "due.overdue": "Quá hạn, chưa trả", "due.today": "Đến hạn hôm nay",
		"DueTodayCount": "đến hạn hôm nay", "OverdueCount": "quá hạn chưa trả", "OnTimeThisMonth": "Trả đúng hạn tháng này",
		"StatsCertified": "Số chứng thực", "StatsCopies": "Số bản sao", "StatsPages": "Số trang", "StatsRefusals": "Từ chối",
		"StatsReceived": "Hồ sơ tiếp nhận", "StatsOnTime": "Trả đúng hạn", "StatsLate": "Trả quá hạn", "StatsOverdue": "Quá hạn chưa trả",
		"StatsPending": "Đang trong hạn", "StatsOnTimeRate": "Tỷ lệ đúng hạn", "StatsSatisfaction": "Tỷ lệ hài lòng", "StatsRated": "Lượt đánh giá",
		"StatsCount": "Số lượng", "StatsWork": "Chứng thực, lệ phí và từ chối", "StatsService": "Thời hạn trả kết quả và mức độ hài lòng",
		"PagesLower": "trang", "RatingsLower": "lượt đánh giá", "NoData": "Không có số liệu", "ExportXLSX": "Tải XLSX",
		"ChartCertified": "Số chứng thực theo đơn vị", "ChartDeadline": "Hồ sơ theo thời hạn trả", "ChartRatings": "Đánh giá của người dân",
		"ChartRefusals": "Từ chối theo lý do", "StatsDeadlineHelp": "Hạn trả theo Điều 21 Nghị định 23/2015/NĐ-CP: trong ngày làm việc tiếp nhận, hoặc ngày làm việc tiếp theo nếu tiếp nhận sau 15 giờ; không tính ngày nghỉ, ngày lễ.",
		"StatsSatisfactionHelp": "Tỷ lệ hài lòng = số đánh giá “Hài lòng” / tổng số đánh giá trong kỳ.",
	},
	"en": {
		"RateTitle": "Rate the service", "RateIntro": "How satisfied are you with the certification of this copy? Each copy can be rated once; ratings are never published, only counted in the office's statistics.",
		"RateQuestion": "Satisfaction", "rating.satisfied": "Satisfied", "rating.neutral": "Neutral", "rating.not_satisfied": "Not satisfied",
		"RateComment": "Comment (optional)", "RateCommentHelp": "Up to 1000 characters. Do not write personal data.",
		"RateCodeHelp": "The access code printed on the receipt: only the holder of the receipt can rate.", "RateSend": "Send the rating",
		"RateThanks": "Thank you for your rating. It helps the office serve better.", "RateBackToCopy": "Back to the copy's page",
		"RateNotOpen": "This copy is no longer in force, so it cannot be rated.", "RateLink": "Rate the service",
		"RateAfterDownload": "After downloading the copy you can rate the service:",
		"Step4":             "scan this QR code or open the link and enter the access code (each copy can be rated once).",
		"ReceivedAt":        "Received at", "DueAt": "Due", "ReturnedAt": "Returned at", "Deadline": "Deadline",
		"due.on_time": "On time", "due.late": "Late", "due.pending": "Within deadline", "due.overdue": "Overdue, not returned", "due.today": "Due today",
		"DueTodayCount": "due today", "OverdueCount": "overdue, not returned", "OnTimeThisMonth": "Returned on time this month",
		"StatsCertified": "Certifications", "StatsCopies": "Copies", "StatsPages": "Pages", "StatsRefusals": "Refusals",
		"StatsReceived": "Requests received", "StatsOnTime": "Returned on time", "StatsLate": "Returned late", "StatsOverdue": "Overdue, not returned",
		"StatsPending": "Within deadline", "StatsOnTimeRate": "On-time rate", "StatsSatisfaction": "Satisfaction rate", "StatsRated": "Ratings",
		"StatsCount": "Count", "StatsWork": "Certifications, fees and refusals", "StatsService": "Deadlines and satisfaction",
		"PagesLower": "pages", "RatingsLower": "ratings", "NoData": "No data", "ExportXLSX": "Download XLSX",
		"ChartCertified": "Certifications per unit", "ChartDeadline": "Requests by deadline", "ChartRatings": "Citizens' ratings",
		"ChartRefusals": "Refusals by reason", "StatsDeadlineHelp": "Deadline under Decree 23/2015 art. 21: the working day the request is received, or the next working day when received after 15:00; weekends and public holidays do not count.",
		"StatsSatisfactionHelp": "Satisfaction rate = “Satisfied” ratings / all ratings in the period.",
	},
}

func init() { mergeMessages(onestopMessages) }

// mergeMessages adds a feature's words to messages; a key defined twice panics at start-up.
func mergeMessages(extra map[string]map[string]string) {
	for lang, m := range extra {
		for k, v := range m {
			if _, dup := messages[lang][k]; dup {
				panic("api: message " + k + " defined twice")
			}
			messages[lang][k] = v
		}
	}
}
