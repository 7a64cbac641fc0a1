package apimetrics

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTransportCounts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/limited":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/gh-secondary":
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusForbidden)
		case "/forbidden":
			w.WriteHeader(http.StatusForbidden)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Client("github", 0)
	for _, p := range []string{"/", "/", "/limited", "/gh-secondary", "/forbidden"} {
		resp, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close()
	if _, err := c.Get(srv.URL); err == nil {
		t.Fatal("a closed server answered")
	}
	for code, want := range map[string]float64{"200": 2, "429": 1, "403": 2, "error": 1} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues("github", code)); got != want {
			t.Errorf("requests{code=%s} = %v, want %v", code, got, want)
		}
	}
	if got := testutil.ToFloat64(m.rateLimited.WithLabelValues("github")); got != 2 {
		t.Errorf("rate limited = %v, want 2 (429 and the 403 with Retry-After, not the plain 403)", got)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Errorf("duration series = %d, want 1", n)
	}
	var nilM *Metrics
	if rt := nilM.Transport("x", http.DefaultTransport); rt != http.DefaultTransport {
		t.Error("a nil Metrics wrapped the transport")
	}
}
