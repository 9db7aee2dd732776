package deadline

import (
	"math"
	"time"
)

// The Vietnamese lunar calendar (Hồ Ngọc Đức's astronomical algorithm, time zone UTC+7),
// used only to check the lunar holidays of holidays.txt independently of the table.

func jdFromDate(dd, mm, yy int) int {
	a := (14 - mm) / 12
	y := yy + 4800 - a
	m := mm + 12*a - 3
	return dd + (153*m+2)/5 + 365*y + y/4 - y/100 + y/400 - 32045
}

func jdToTime(jd int) time.Time {
	return time.Unix(int64(jd-2440588)*86400, 0).UTC()
}

func newMoon(k int) float64 {
	kf := float64(k)
	T := kf / 1236.85
	T2, T3 := T*T, T*T*T
	dr := math.Pi / 180
	jd1 := 2415020.75933 + 29.53058868*kf + 0.0001178*T2 - 0.000000155*T3
	jd1 += 0.00033 * math.Sin((166.56+132.87*T-0.009173*T2)*dr)
	M := 359.2242 + 29.10535608*kf - 0.0000333*T2 - 0.00000347*T3
	Mpr := 306.0253 + 385.81691806*kf + 0.0107306*T2 + 0.00001236*T3
	F := 21.2964 + 390.67050646*kf - 0.0016528*T2 - 0.00000239*T3
	c1 := (0.1734-0.000393*T)*math.Sin(M*dr) + 0.0021*math.Sin(2*dr*M)
	c1 = c1 - 0.4068*math.Sin(Mpr*dr) + 0.0161*math.Sin(dr*2*Mpr)
	c1 -= 0.0004 * math.Sin(dr*3*Mpr)
	c1 = c1 + 0.0104*math.Sin(dr*2*F) - 0.0051*math.Sin(dr*(M+Mpr))
	c1 = c1 - 0.0074*math.Sin(dr*(M-Mpr)) + 0.0004*math.Sin(dr*(2*F+M))
	c1 = c1 - 0.0004*math.Sin(dr*(2*F-M)) - 0.0006*math.Sin(dr*(2*F+Mpr))
	c1 = c1 + 0.0010*math.Sin(dr*(2*F-Mpr)) + 0.0005*math.Sin(dr*(2*Mpr+M))
	deltat := -0.000278 + 0.000265*T + 0.000262*T2
	return jd1 + c1 - deltat
}

const tz = 7.0

func newMoonDay(k int) int { return int(math.Floor(newMoon(k) + 0.5 + tz/24)) }

func sunLongitude(jdn float64) float64 {
	T := (jdn - 2451545.0) / 36525
	T2 := T * T
	dr := math.Pi / 180
	M := 357.52910 + 35999.05030*T - 0.0001559*T2 - 0.00000048*T*T2
	L0 := 280.46645 + 36000.76983*T + 0.0003032*T2
	DL := (1.914600 - 0.004817*T - 0.000014*T2) * math.Sin(dr*M)
	DL += (0.019993-0.000101*T)*math.Sin(dr*2*M) + 0.000290*math.Sin(dr*3*M)
	L := (L0 + DL) * dr
	return L - math.Pi*2*math.Floor(L/(math.Pi*2))
}

func sunSector(dayNumber int) int {
	return int(math.Floor(sunLongitude(float64(dayNumber)-0.5-tz/24) / math.Pi * 6))
}

func lunarMonth11(yy int) int {
	off := jdFromDate(31, 12, yy) - 2415021
	k := int(math.Floor(float64(off) / 29.530588853))
	nm := newMoonDay(k)
	if sunSector(nm) >= 9 {
		nm = newMoonDay(k - 1)
	}
	return nm
}

func leapMonthOffset(a11 int) int {
	k := int(math.Floor((float64(a11)-2415021.076998695)/29.530588853 + 0.5))
	i := 1
	arc := sunSector(newMoonDay(k + i))
	for {
		last := arc
		i++
		arc = sunSector(newMoonDay(k + i))
		if arc == last || i >= 14 {
			break
		}
	}
	return i - 1
}

// lunarToSolar returns the civil date of day d of (non-leap) lunar month m of lunar year y.
func lunarToSolar(d, m, y int) time.Time {
	var a11, b11 int
	if m < 11 {
		a11, b11 = lunarMonth11(y-1), lunarMonth11(y)
	} else {
		a11, b11 = lunarMonth11(y), lunarMonth11(y+1)
	}
	k := int(math.Floor(0.5 + (float64(a11)-2415021.076998695)/29.530588853))
	off := m - 11
	if off < 0 {
		off += 12
	}
	if b11-a11 > 365 && off >= leapMonthOffset(a11) {
		off++
	}
	return jdToTime(newMoonDay(k+off) + d - 1)
}
