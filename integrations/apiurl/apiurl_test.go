package apiurl

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for raw, want := range map[string]string{
		"https://api.pagerduty.com":         "",
		"http://127.0.0.1:8080/api/v3/":     "",
		"http://localhost:9000":             "",
		"http://[::1]:9000":                 "",
		"http://api.example.com":            "use https",
		"ftp://api.example.com":             "is not a URL like",
		"api.example.com":                   "is not a URL like",
		"https://user:pw@api.example.com":   "without credentials",
		"https://api.example.com/?token=x":  "without credentials",
		"https://api.example.com/#fragment": "without credentials",
	} {
		_, err := Parse(raw, "https://api.example.com", "token")
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", raw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: the password is in the error: %v", raw, err)
		}
	}
}
