// Package otp masks one-time passwords in message text.
//
// What counts as an OTP: a run of 4 to 8 ASCII digits, or digit groups of at
// least 3 joined by single hyphens or spaces ("123-456", "123 456", 6 to 8
// digits in all), that stands within 40 characters before or 30 after an OTP
// keyword. Keywords, matched case-insensitively:
//
//	English     OTP, one-time, one time, passcode, code, PIN, password, passwd, verification, verify, 2FA, token
//	Spanish     código, contraseña, clave        Portuguese  senha, código
//	French      code, mot de passe               German      Code, Passwort, Bestätigungscode
//	Indonesian  kode, kata sandi                 Vietnamese  mã, xác nhận, xác thực
//	Thai        รหัส                             Hindi       ओटीपी, कोड
//	Chinese     验证码, 密码                      Japanese    認証コード, 確認コード, パスワード
//	Korean      인증번호, 비밀번호                 Arabic      رمز
//	Russian     код, пароль
//
// Latin-script keywords must start a word and end one (a plural "s" is
// allowed), so "barcode" or "opinion" do not count; other scripts match
// anywhere, since they are not written with spaces between words.
//
// Not masked even near a keyword: numbers with a currency sign or code just
// before them (Rs, INR, USD, $, €, £, ¥, ₹), amounts and decimals (digits
// joined to more digits by "," or "."), dates and times (digits joined to
// more digits by "-", "/" or ":" in groups shorter than 3), percentages,
// and runs longer than 8 digits (phone and order numbers).
//
// A masked code keeps its length: each digit becomes "*", separators stay,
// so the text reads the same and Mask is idempotent.
package otp

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	before = 40 // a keyword may end this many runes before the code
	after  = 30 // or start this many runes after it
)

var keywords = []string{
	"otp", "one-time", "one time", "passcode", "code", "pin", "password", "passwd", "verification", "verify", "2fa", "token",
	"código", "codigo", "contraseña", "clave", "senha", "mot de passe", "passwort", "bestätigungscode", "kode", "kata sandi",
	"mã", "xác nhận", "xác thực", "รหัส", "ओटीपी", "कोड", "验证码", "密码", "認証コード", "確認コード", "パスワード",
	"인증번호", "비밀번호", "رمز", "код", "пароль",
}

var currencies = []string{"rs", "rs.", "inr", "usd", "eur", "$", "€", "£", "¥", "₹"}

// MaskIf masks s when on is true and returns it unchanged otherwise.
func MaskIf(s string, on bool) string {
	if !on {
		return s
	}
	return Mask(s)
}

// Mask returns s with every OTP (see the package documentation) replaced by
// asterisks. Text without an OTP is returned as it is, without copying.
func Mask(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	rs := []rune(s)
	lower := make([]rune, len(rs))
	for i, r := range rs {
		lower[i] = unicode.ToLower(r)
	}
	hits := keywordSpans(lower)
	if len(hits) == 0 {
		return s
	}
	changed := false
	for _, c := range codes(lower) {
		if !near(c, hits) {
			continue
		}
		for i := c.start; i < c.end; i++ {
			if isDigit(rs[i]) {
				rs[i] = '*'
				changed = true
			}
		}
	}
	if !changed {
		return s
	}
	return string(rs)
}

type span struct{ start, end int }

func near(c span, hits []span) bool {
	for _, k := range hits {
		if k.end <= c.start && c.start-k.end <= before {
			return true
		}
		if k.start >= c.end && k.start-c.end <= after {
			return true
		}
	}
	return false
}

func keywordSpans(lower []rune) []span {
	var out []span
	for _, kw := range keywords {
		k := []rune(kw)
		latin := unicode.In(k[0], unicode.Latin) || isDigit(k[0])
		for i := 0; i+len(k) <= len(lower); i++ {
			if !hasPrefix(lower[i:], k) {
				continue
			}
			end := i + len(k)
			if latin {
				if i > 0 && unicode.IsLetter(lower[i-1]) {
					continue
				}
				if end < len(lower) && lower[end] == 's' {
					end++
				}
				if end < len(lower) && unicode.IsLetter(lower[end]) {
					continue
				}
			}
			out = append(out, span{i, end})
		}
	}
	return out
}

func hasPrefix(s, p []rune) bool {
	if len(s) < len(p) {
		return false
	}
	for i := range p {
		if s[i] != p[i] {
			return false
		}
	}
	return true
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// codes finds the candidate codes in the text.
func codes(rs []rune) []span {
	var runs []span
	for i := 0; i < len(rs); {
		if !isDigit(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && isDigit(rs[j]) {
			j++
		}
		runs = append(runs, span{i, j})
		i = j
	}
	var out []span
	for i := 0; i < len(runs); i++ {
		r := runs[i]
		// Join digit groups of 3+ separated by one hyphen or space.
		group := r
		digits := r.end - r.start
		j := i
		for j+1 < len(runs) && runs[j+1].start == runs[j].end+1 && (rs[runs[j].end] == '-' || rs[runs[j].end] == ' ') &&
			runs[j].end-runs[j].start >= 3 && runs[j+1].end-runs[j+1].start >= 3 {
			j++
			digits += runs[j].end - runs[j].start
			group.end = runs[j].end
		}
		if j > i {
			if digits >= 6 && digits <= 8 && standalone(rs, group) {
				out = append(out, group)
				i = j
				continue
			}
		}
		if digits := r.end - r.start; digits >= 4 && digits <= 8 && standalone(rs, r) {
			out = append(out, r)
		}
	}
	return out
}

// standalone rejects numbers that are part of something else: amounts,
// decimals, dates, times, percentages, identifiers glued to letters, and
// numbers after a currency.
func standalone(rs []rune, c span) bool {
	if c.start > 0 {
		p := rs[c.start-1]
		if unicode.In(p, unicode.Latin) || p == '*' {
			return false
		}
		if (p == ',' || p == '.' || p == '-' || p == '/' || p == ':') && c.start > 1 && isDigit(rs[c.start-2]) {
			return false
		}
	}
	if c.end < len(rs) {
		n := rs[c.end]
		if unicode.In(n, unicode.Latin) || n == '%' || n == '*' {
			return false
		}
		if (n == ',' || n == '.' || n == '-' || n == '/' || n == ':') && c.end+1 < len(rs) && isDigit(rs[c.end+1]) {
			return false
		}
	}
	// a currency right before (allowing one space)
	head := strings.ToLower(strings.TrimRight(string(rs[max(0, c.start-5):c.start]), " "))
	for _, cur := range currencies {
		if strings.HasSuffix(head, cur) {
			k := len(head) - len(cur)
			if k == 0 || !isLetterByte(head, k) {
				return false
			}
		}
	}
	return true
}

// isLetterByte reports whether the rune ending just before byte k of s is a
// letter.
func isLetterByte(s string, k int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:k])
	return unicode.IsLetter(r)
}
