package github

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	gh "github.com/google/go-github/v75/github"
)

// Lifetimes of App credentials.
const (
	// jwtLifetime is under GitHub's 10-minute maximum; jwtBackdate allows
	// for a clock behind GitHub's.
	jwtLifetime = 9 * time.Minute
	jwtBackdate = time.Minute
	// tokenMargin is how long before its expiry an installation token is
	// replaced.
	tokenMargin = 5 * time.Minute
)

// appAuth authenticates as a GitHub App installation: an RS256 JWT signed
// with the App's key buys an installation token (valid one hour), cached
// until tokenMargin before it expires.
type appAuth struct {
	id, installation int64
	key              *rsa.PrivateKey
	now              func() time.Time
	// client calls the /app endpoints with the JWT.
	client *gh.Client

	mu      sync.Mutex
	token   string
	expires time.Time
	perms   *gh.InstallationPermissions
}

// loadAppKey reads the App's private key from the config.
func loadAppKey(a AppConfig) (*rsa.PrivateKey, error) {
	pem := []byte(a.PrivateKey)
	key := "github.app.private_key"
	if a.PrivateKeyFile != "" {
		key = "github.app.private_key_file"
		b, err := os.ReadFile(a.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		pem = b
	}
	k, err := jwt.ParseRSAPrivateKeyFromPEM(pem)
	if err != nil {
		// The parser's error never quotes the key.
		return nil, fmt.Errorf("%s: not an RSA private key in PEM form: %w", key, err)
	}
	return k, nil
}

func newAppAuth(a AppConfig, key *rsa.PrivateKey, base *url.URL, wire http.RoundTripper, now func() time.Time) *appAuth {
	app := &appAuth{id: a.ID, installation: a.InstallationID, key: key, now: now}
	app.client = newClient(base, &authTransport{base: wire, api: base,
		token: func(context.Context) (string, error) { return app.jwt() }})
	return app
}

// jwt signs the App's JSON web token.
func (a *appAuth) jwt() (string, error) {
	now := a.now()
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(a.id, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-jwtBackdate)),
		ExpiresAt: jwt.NewNumericDate(now.Add(jwtLifetime)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(a.key)
	if err != nil {
		return "", fmt.Errorf("sign the GitHub App JWT: %w", err)
	}
	return s, nil
}

// installationToken returns the cached installation token, or a new one.
func (a *appAuth) installationToken(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.now().Add(tokenMargin).Before(a.expires) {
		return a.token, nil
	}
	tok, _, err := a.client.Apps.CreateInstallationToken(ctx, a.installation, nil)
	if err != nil {
		return "", fmt.Errorf("get an installation token (github.app.installation_id %d): %w", a.installation, err)
	}
	if tok.GetToken() == "" {
		return "", errors.New("get an installation token: GitHub sent no token")
	}
	a.token, a.perms = tok.GetToken(), tok.GetPermissions()
	a.expires = tok.GetExpiresAt().Time
	if a.expires.IsZero() {
		a.expires = a.now().Add(time.Hour)
	}
	return a.token, nil
}

// invalidate drops tok if it is the cached token (GitHub refused it).
func (a *appAuth) invalidate(tok string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == tok {
		a.token = ""
	}
}

// permissions are those of the last installation token.
func (a *appAuth) permissions() *gh.InstallationPermissions {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.perms
}
