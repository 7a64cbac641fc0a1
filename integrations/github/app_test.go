package github

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testKey is an App private key, generated once for the package's tests.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func testKeyPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())}))
}

// fakeApp makes the fake GitHub an App's host: it verifies the RS256 JWT
// with the App's public key and issues installation tokens, which every
// other request must then carry.
type fakeApp struct {
	t            *testing.T
	id           int64
	installation int64
	clock        func() time.Time
	perms        map[string]string

	mu     sync.Mutex
	issued []string
}

func (a *fakeApp) verify(r *http.Request) error {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return fmt.Errorf("no bearer token")
	}
	tok, err := jwt.ParseWithClaims(raw, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return &testKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(a.clock), jwt.WithIssuer(fmt.Sprint(a.id)),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		return err
	}
	c := tok.Claims.(*jwt.RegisteredClaims)
	if c.ExpiresAt.Sub(c.IssuedAt.Time) > 10*time.Minute {
		return fmt.Errorf("JWT lives longer than 10 minutes")
	}
	return nil
}

func (a *fakeApp) hook(f *fakeGitHub) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.URL.Path == "/app" || strings.HasPrefix(r.URL.Path, "/app/"):
			if err := a.verify(r); err != nil {
				a.t.Logf("JWT refused: %v", err)
				f.error(w, http.StatusUnauthorized, "bad_credentials.json")
				return true
			}
		default:
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.issued) == 0 || r.Header.Get("Authorization") != "Bearer "+a.issued[len(a.issued)-1] {
				f.error(w, http.StatusUnauthorized, "bad_credentials.json")
				return true
			}
			return false
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/app":
			v := fixture(a.t, "app.json")
			v["id"] = a.id
			b, _ := json.Marshal(v)
			_, _ = w.Write(b)
		case r.Method == http.MethodPost && r.URL.Path == fmt.Sprintf("/app/installations/%d/access_tokens", a.installation):
			a.mu.Lock()
			tok := fmt.Sprintf("ghs_installation%02d", len(a.issued)+1)
			a.issued = append(a.issued, tok)
			a.mu.Unlock()
			v := fixture(a.t, "installation_token.json")
			v["token"], v["expires_at"] = tok, a.clock().Add(time.Hour).UTC().Format(time.RFC3339)
			if a.perms != nil {
				v["permissions"] = a.perms
			}
			b, _ := json.Marshal(v)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(b)
		default:
			f.error(w, http.StatusNotFound, "not_found.json")
		}
		return true
	}
}

func (a *fakeApp) tokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.issued...)
}

// clock is a settable time for a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func appConfig(t *testing.T, e *env, installation int64) Config {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, []byte(testKeyPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	return Config{BaseURL: e.fake.baseURL(), Orgs: []string{"northwind"},
		App: AppConfig{ID: 42, InstallationID: installation, PrivateKeyFile: keyFile}}
}

func TestSyncAuthenticatesAsAnApp(t *testing.T) {
	e := newEnv(t, "")
	e.northwind()
	clk := &clock{now: testNow}
	app := &fakeApp{t: t, id: 42, installation: 7, clock: clk.Now}
	e.fake.setHook(app.hook(e.fake))
	s := e.source(appConfig(t, e, 7), func(o *Options) { o.Now = clk.Now })

	rep := e.sync(s)
	if rep.Ingested != 4 {
		t.Errorf("report: %+v", rep)
	}
	clk.advance(30 * time.Minute)
	e.sync(s)
	if got := app.tokens(); len(got) != 1 {
		t.Errorf("installation tokens issued: %v, want one, cached", got)
	}
	clk.advance(26 * time.Minute) // 4 minutes before the token expires
	e.sync(s)
	if got := app.tokens(); len(got) != 2 {
		t.Errorf("installation tokens issued: %v, want a new one near expiry", got)
	}
	logs := e.logs.String()
	for _, secret := range append(app.tokens(), "PRIVATE KEY", strings.Split(testKeyPEM(), "\n")[1]) {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold a secret (%.12s…)", secret)
		}
	}
}

func TestSyncReportsAWrongInstallation(t *testing.T) {
	e := newEnv(t, "")
	e.northwind()
	app := &fakeApp{t: t, id: 42, installation: 7, clock: func() time.Time { return testNow }}
	e.fake.setHook(app.hook(e.fake))
	_, err := e.source(appConfig(t, e, 8)).Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "github.app.installation_id 8") {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "eyJ") {
		t.Errorf("the error holds a secret: %v", err)
	}
}
