package otp

import (
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Your OTP is 123456. Do not share it.", "Your OTP is ******. Do not share it."},
		{"482913 is your verification code", "****** is your verification code"},
		{"Use code 9981 to sign in", "Use code **** to sign in"},
		{"Your one-time password: 12345678", "Your one-time password: ********"},
		{"PIN 4455 and code 7788", "PIN **** and code ****"},
		{"Your code is 123-456", "Your code is ***-***"},
		{"Your code is 123 456.", "Your code is *** ***."},
		{"Tu código es 5521", "Tu código es ****"},
		{"Sua senha: 784512", "Sua senha: ******"},
		{"Votre code: 9087 (mot de passe)", "Votre code: **** (mot de passe)"},
		{"Ihr Bestätigungscode lautet 334455", "Ihr Bestätigungscode lautet ******"},
		{"Kode OTP Anda 112233", "Kode OTP Anda ******"},
		{"Mã xác nhận của bạn là 556677", "Mã xác nhận của bạn là ******"},
		{"รหัส OTP ของคุณคือ 123987", "รหัส OTP ของคุณคือ ******"},
		{"आपका ओटीपी 4567 है", "आपका ओटीपी **** है"},
		{"您的验证码是123456，请勿泄露", "您的验证码是******，请勿泄露"},
		{"認証コード：246810", "認証コード：******"},
		{"Ваш код: 1357", "Ваш код: ****"},
		{"رمز التحقق 8642", "رمز التحقق ****"},
		{"인증번호 [774411]", "인증번호 [******]"},
		{"🔐 OTP 1234 🔐", "🔐 OTP **** 🔐"},
		// not masked
		{"Your order 123456 has shipped", "Your order 123456 has shipped"},
		{"Pay Rs 1500 with code FLAT50", "Pay Rs 1500 with code FLAT50"},
		{"Use code SAVE to get Rs. 2000 off", "Use code SAVE to get Rs. 2000 off"},
		{"Code valid till 2025-04-14", "Code valid till 2025-04-14"},
		{"Your code offers 2,500 points", "Your code offers 2,500 points"},
		{"Code: $2000.00 credit", "Code: $2000.00 credit"},
		{"Call 919988221100 for your PIN", "Call 919988221100 for your PIN"},
		{"Scan the barcode 123456", "Scan the barcode 123456"},
		{"In my opinion 2024 was great", "In my opinion 2024 was great"},
		{"Code expires at 10:30", "Code expires at 10:30"},
		{"Save 1234% with code", "Save 1234% with code"},
		{"Your OTP is 123", "Your OTP is 123"},
		{"Code ABC1234", "Code ABC1234"},
		{"no digits here", "no digits here"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskIf(t *testing.T) {
	if got := MaskIf("OTP 1234", false); got != "OTP 1234" {
		t.Errorf("MaskIf off = %q", got)
	}
	if got := MaskIf("OTP 1234", true); got != "OTP ****" {
		t.Errorf("MaskIf on = %q", got)
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{"Your OTP is 123456", "código 1234", "验证码123456", "Rs 1500 code", "123-456 code", "\xff1234 otp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Mask(s)
		if utf8.ValidString(s) && !utf8.ValidString(m) {
			t.Fatalf("Mask(%q) = %q is not valid UTF-8", s, m)
		}
		if utf8.RuneCountInString(m) != utf8.RuneCountInString(s) {
			t.Fatalf("Mask(%q) = %q changed the length", s, m)
		}
		if Mask(m) != m {
			t.Fatalf("Mask is not idempotent on %q: %q then %q", s, m, Mask(m))
		}
		rs, ms := []rune(s), []rune(m)
		for i := range ms {
			if ms[i] != rs[i] && (ms[i] != '*' || rs[i] < '0' || rs[i] > '9') {
				t.Fatalf("Mask(%q) changed a non-digit at %d: %q", s, i, m)
			}
		}
	})
}

func BenchmarkMask(b *testing.B) {
	texts := []string{"Your OTP is 123456. Do not share it with anyone.", "Weekend sale: 20% off everything in store", "Your order 123456 has shipped"}
	for b.Loop() {
		for _, s := range texts {
			Mask(s)
		}
	}
}
