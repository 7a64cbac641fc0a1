// Package httpapi is idpbot's REST API for machines: pipelines look up
// owners and entities, search, read scores and push facts (coverage,
// deploy frequency) with bearer tokens. It serves JSON under /api/v1/ on
// the serve listener.
package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idpbot/idpbot/actions"
	"github.com/idpbot/idpbot/bot"
	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/scoring"
)

// FactWriter records pushed facts; *scoring.FactStore satisfies it.
type FactWriter interface {
	Push(ctx context.Context, ref, source string, at time.Time, facts map[string]any) error
}

// Deps are what the API reads and writes.
type Deps struct {
	Catalog bot.Catalog
	// Scorer and Facts are optional (without scorecards, nil).
	Scorer bot.Scorer
	Facts  FactWriter
	// Actions and Audit are optional (without actions, nil).
	Actions Actions
	Audit   AuditLog
	// Backup writes a backup of the data directory (catalog and state).
	Backup func(ctx context.Context, w io.Writer) (int64, error)
}

// Actions is what the API asks of the action engine; *actions.Engine
// satisfies it.
type Actions interface {
	Bind(ctx context.Context, actionID string, params map[string]string) (actions.Inputs, error)
	Request(ctx context.Context, actor, actionID string, in actions.Inputs, origin actions.Origin) (*actions.Run, error)
	Get(ctx context.Context, id string) (*actions.Run, error)
}

// AuditLog is the audit log; *actions.Audit satisfies it.
type AuditLog interface {
	List(ctx context.Context, f actions.AuditFilter, limit int) ([]actions.Record, error)
}

// Server is the REST API.
type Server struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	tokens []token
	now    func() time.Time
}

type token struct {
	sum    [32]byte
	client Token
}

// New returns the API; cfg must be valid.
func New(cfg Config, deps Deps, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Catalog == nil {
		return nil, errors.New("httpapi: Deps.Catalog is required")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, deps: deps, log: log, now: time.Now}
	for _, t := range cfg.Tokens {
		s.tokens = append(s.tokens, token{sum: sha256.Sum256([]byte(t.Token)), client: t})
	}
	return s, nil
}

// Handler serves /api/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/entities", s.auth(ScopeRead, s.listEntities))
	mux.HandleFunc("GET /api/v1/entities/by-name/{kind}/{namespace}/{name}", s.auth(ScopeRead, s.getEntity))
	mux.HandleFunc("GET /api/v1/search", s.auth(ScopeRead, s.search))
	mux.HandleFunc("GET /api/v1/who-owns", s.auth(ScopeRead, s.whoOwns))
	mux.HandleFunc("GET /api/v1/scores/by-name/{kind}/{namespace}/{name}", s.auth(ScopeRead, s.scores))
	mux.HandleFunc("POST /api/v1/facts", s.auth(ScopeFactsWrite, s.pushFacts))
	mux.HandleFunc("POST /api/v1/actions/{id}/runs", s.auth(ScopeActionsRun, s.requestRun))
	mux.HandleFunc("GET /api/v1/runs/{id}", s.auth(ScopeActionsRun, s.getRun))
	mux.HandleFunc("GET /api/v1/audit", s.auth(ScopeAuditRead, s.audit))
	mux.HandleFunc("GET /api/v1/backup", s.auth(ScopeBackup, s.backup))
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path, "see docs/api.md for the endpoints")
	})
	return mux
}

// apiError is the JSON body of every error.
type apiError struct {
	Error      string   `json:"error"`
	Hint       string   `json:"hint,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg, hint string) {
	writeJSON(w, status, apiError{Error: msg, Hint: hint})
}

type ctxKey struct{}

// Client returns the API client of a request that passed auth.
func Client(ctx context.Context) (Token, bool) {
	t, ok := ctx.Value(ctxKey{}).(Token)
	return t, ok
}

// auth checks the bearer token (constant time, against every token) and
// the scope.
func (s *Server) auth(scope string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="idpbot"`)
			hint := "send Authorization: Bearer <token>"
			if len(s.tokens) == 0 {
				hint = "the API has no tokens configured: add api.tokens to the configuration (or set IDPBOT_API_TOKEN)"
			}
			writeError(w, http.StatusUnauthorized, "missing bearer token", hint)
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(raw)))
		var client *Token
		for i := range s.tokens {
			if subtle.ConstantTimeCompare(sum[:], s.tokens[i].sum[:]) == 1 {
				client = &s.tokens[i].client
			}
		}
		if client == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="idpbot", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unknown token", "check the token; it is compared with api.tokens")
			s.log.WarnContext(r.Context(), "api: unknown token", "path", r.URL.Path, "remote", r.RemoteAddr)
			return
		}
		if !slices.Contains(client.Scopes, scope) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("token %q lacks the scope %s", client.Name, scope), "add it to the token's scopes in api.tokens")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, *client)))
	}
}

// lookupError maps catalog errors to statuses: 404 with suggestions, 409
// with candidates; others are internal (logged, shown only as such).
func (s *Server) lookupError(w http.ResponseWriter, r *http.Request, err error) {
	var amb *catalog.AmbiguousError
	var nf *catalog.NotFoundError
	switch {
	case errors.As(err, &amb):
		body := apiError{Error: fmt.Sprintf("%q matches several entities", amb.Query), Hint: "ask again with one of the candidates"}
		for _, c := range amb.Candidates {
			body.Candidates = append(body.Candidates, c.String())
		}
		writeJSON(w, http.StatusConflict, body)
	case errors.As(err, &nf):
		body := apiError{Error: fmt.Sprintf("nothing in the catalog is called %q", nf.Query)}
		for _, c := range nf.Suggestions {
			body.Candidates = append(body.Candidates, c.String())
		}
		if len(body.Candidates) > 0 {
			body.Hint = "did you mean one of the candidates?"
		}
		writeJSON(w, http.StatusNotFound, body)
	case errors.Is(err, catalog.ErrInvalidRef):
		writeError(w, http.StatusBadRequest, err.Error(), "a ref is [kind:][namespace/]name")
	default:
		id := bot.NewRequestID()
		s.log.ErrorContext(r.Context(), "api request failed", "request_id", id, "path", r.URL.Path, "error", err.Error())
		writeError(w, http.StatusInternalServerError, "internal error (request id "+id+")", "")
	}
}

func refOf(r *http.Request) string {
	return fmt.Sprintf("%s:%s/%s", strings.ToLower(r.PathValue("kind")), r.PathValue("namespace"), r.PathValue("name"))
}

func (s *Server) getEntity(w http.ResponseWriter, r *http.Request) {
	e, err := s.deps.Catalog.Get(r.Context(), refOf(r))
	if err != nil {
		s.lookupError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("limit=%s: give a whole number from 1 to %d", v, max)
	}
	return n, nil
}

func (s *Server) listEntities(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	f, err := catalog.ParseFilter(r.URL.Query()["filter"]...)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "filter=kind=component,spec.type=service (repeat filter= for OR)")
		return
	}
	list, err := s.deps.Catalog.List(r.Context(), f, limit)
	if err != nil {
		s.lookupError(w, r, err)
		return
	}
	if list == nil {
		list = []*catalog.Entity{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if strings.TrimSpace(q.Get("q")) == "" {
		writeError(w, http.StatusBadRequest, "q is required", "search?q=ledger&kind=api&limit=10")
		return
	}
	limit, err := limitParam(r, 10, 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	res, err := s.deps.Catalog.Search(r.Context(), catalog.SearchRequest{Text: q.Get("q"), Kinds: q["kind"], Limit: limit})
	if err != nil {
		s.lookupError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) whoOwns(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		writeError(w, http.StatusBadRequest, "q is required", "who-owns?q=payments-api (a name or a ref)")
		return
	}
	o, err := s.deps.Catalog.WhoOwns(r.Context(), q)
	if err != nil {
		s.lookupError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// scoreJSON is one scorecard result for machines.
type scoreJSON struct {
	Scorecard string     `json:"scorecard"`
	Level     string     `json:"level"`
	Score     float64    `json:"score"`
	Rules     []ruleJSON `json:"rules"`
}

type ruleJSON struct {
	ID      string `json:"id"`
	Level   string `json:"level"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Fix     string `json:"fix,omitempty"`
}

func (s *Server) scores(w http.ResponseWriter, r *http.Request) {
	if s.deps.Scorer == nil {
		writeError(w, http.StatusNotFound, "no scorecards are loaded", "start idpbot with --scorecards")
		return
	}
	_, results, err := s.deps.Scorer.Entity(r.Context(), refOf(r))
	if err != nil {
		s.lookupError(w, r, err)
		return
	}
	out := []scoreJSON{}
	for _, res := range results {
		sj := scoreJSON{Scorecard: res.Scorecard.ID, Level: res.LevelName(), Score: res.Score}
		for _, rr := range res.Rules {
			sj.Rules = append(sj.Rules, ruleJSON{ID: rr.Rule.ID, Level: res.Scorecard.LevelName(rr.Rule.Level), Outcome: rr.Outcome.String(), Reason: rr.Reason, Fix: rr.Rule.Fix})
		}
		out = append(out, sj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

// factsRequest is the body of POST /api/v1/facts.
type factsRequest struct {
	Entity string         `json:"entity"`
	Source string         `json:"source"`
	Facts  map[string]any `json:"facts"`
}

func (s *Server) pushFacts(w http.ResponseWriter, r *http.Request) {
	if s.deps.Facts == nil {
		writeError(w, http.StatusNotFound, "facts are not kept: no scorecards are loaded", "start idpbot with --scorecards")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "send Content-Type: application/json", "")
		return
	}
	var req factsRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", mbe.Limit), "push fewer facts at a time")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid JSON: "+err.Error(), `{"entity": "component:default/payments-api", "source": "ci", "facts": {"coverage": 87.5}}`)
		return
	}
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large", "")
		return
	}
	if err := scoring.ValidateFacts(req.Facts); err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	client, _ := Client(r.Context())
	if req.Source == "" {
		req.Source = client.Name
	}
	e, err := s.deps.Catalog.Resolve(r.Context(), req.Entity)
	if err != nil {
		s.lookupError(w, r, err)
		return
	}
	ref := e.Ref().String()
	if err := s.deps.Facts.Push(r.Context(), ref, req.Source, s.now(), req.Facts); err != nil {
		s.lookupError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "facts pushed", "client", client.Name, "entity", ref, "facts", len(req.Facts))
	writeJSON(w, http.StatusOK, map[string]any{"entity": ref, "facts": len(req.Facts)})
}

// actionError answers the engine's errors: bad inputs and refusals are the
// client's (400/403/404), the rest internal.
func (s *Server) actionError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *actions.InputError
	var ue *actions.UserError
	switch {
	case errors.As(err, &ie):
		var problems []string
		for _, p := range ie.Problems {
			problems = append(problems, p.String())
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid inputs", "problems": problems, "usage": ie.Usage})
	case errors.As(err, &ue):
		status := http.StatusForbidden
		if errors.Is(err, actions.ErrUnknownAction) || errors.Is(err, actions.ErrUnknownRun) {
			status = http.StatusNotFound
		}
		writeError(w, status, ue.Message, ue.Hint)
	default:
		s.lookupError(w, r, err)
	}
}

// requestRun is POST /api/v1/actions/{id}/runs with {"inputs": {…}}: the
// same checks as in chat, as the token's catalog user; the approval
// request goes to the target owner's channel.
func (s *Server) requestRun(w http.ResponseWriter, r *http.Request) {
	if s.deps.Actions == nil {
		writeError(w, http.StatusNotFound, "no actions are loaded", "start idpbot with --actions")
		return
	}
	var body struct {
		Inputs map[string]any `json:"inputs"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON: "+err.Error(), `{"inputs": {"service": "payments-api", "env": "prod", "reason": "OOM loop"}}`)
		return
	}
	params := map[string]string{}
	for k, v := range body.Inputs {
		params[k] = fmt.Sprint(v)
	}
	client, _ := Client(r.Context())
	in, err := s.deps.Actions.Bind(r.Context(), r.PathValue("id"), params)
	if err != nil {
		s.actionError(w, r, err)
		return
	}
	run, err := s.deps.Actions.Request(r.Context(), client.As, r.PathValue("id"), in, actions.Origin{Via: "api"})
	if err != nil {
		s.actionError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "action run requested", "client", client.Name, "run", run.ID, "action", run.Action)
	writeJSON(w, http.StatusAccepted, run)
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	if s.deps.Actions == nil {
		writeError(w, http.StatusNotFound, "no actions are loaded", "start idpbot with --actions")
		return
	}
	run, err := s.deps.Actions.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.actionError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// audit is GET /api/v1/audit?run=&actor=&action=&since=24h&limit=100.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	if s.deps.Audit == nil {
		writeError(w, http.StatusNotFound, "no audit log: no actions are loaded", "start idpbot with --actions")
		return
	}
	q := r.URL.Query()
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	f := actions.AuditFilter{RunID: q.Get("run"), Actor: q.Get("actor"), Action: q.Get("action")}
	if v := q.Get("since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("since=%s: a duration such as 24h", v), "")
			return
		}
		f.Since = s.now().Add(-d)
	}
	recs, err := s.deps.Audit.List(r.Context(), f, limit)
	if err != nil {
		s.lookupError(w, r, err)
		return
	}
	if recs == nil {
		recs = []actions.Record{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}

// backupWriter gives each write of a backup response idle to complete
// (none when idle is 0), and notes whether anything was written.
type backupWriter struct {
	w     io.Writer
	rc    *http.ResponseController
	idle  time.Duration
	wrote bool
}

func (b *backupWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil // would send the status and headers
	}
	if b.idle > 0 {
		if err := b.rc.SetWriteDeadline(time.Now().Add(b.idle)); err != nil {
			return 0, err
		}
	}
	b.wrote = true
	return b.w.Write(p)
}

// backup streams a backup of the data directory, taken while idpbot runs
// (idpbot backup --url fetches it; idpbot restore loads it).
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	if s.deps.Backup == nil {
		writeError(w, http.StatusNotFound, "backups are not available here", "")
		return
	}
	client, _ := Client(r.Context())
	// A backup waits for an ingest in progress (until the request's
	// context ends) and then streams the whole store: longer than the
	// server's write timeout allows a response. The deadline is lifted for
	// the wait, and each write gets BackupIdleTimeout: a client that stops
	// reading cannot hold ingests back for good.
	bw := &backupWriter{w: w, rc: http.NewResponseController(w), idle: s.cfg.BackupIdleTimeout}
	if bw.idle <= 0 {
		bw.idle = DefaultBackupIdleTimeout
	}
	if err := bw.rc.SetWriteDeadline(time.Time{}); err != nil {
		s.log.WarnContext(r.Context(), "backup: the write deadline cannot be changed; the server's write timeout bounds the backup", "error", err.Error())
		bw.idle = 0
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="idpbot-backup.gz"`)
	n, err := s.deps.Backup(r.Context(), bw)
	if err != nil {
		s.log.ErrorContext(r.Context(), "backup failed", "client", client.Name, "error", err.Error())
		if !bw.wrote {
			w.Header().Del("Content-Disposition")
			writeError(w, http.StatusInternalServerError, "backup failed: "+err.Error(), "see the server's log")
			return
		}
		// Part of the stream is sent with a 200: cut the connection, so
		// that the client sees it end early rather than complete.
		panic(http.ErrAbortHandler)
	}
	s.log.InfoContext(r.Context(), "backup downloaded", "client", client.Name, "bytes", n)
}
