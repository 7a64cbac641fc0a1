package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/idpbot/idpbot/bot"
)

// Paths of the HTTP endpoints: the Request URL of the /idp slash command
// and the Interactivity Request URL of the Slack app.
const (
	CommandsPath      = "/slack/commands"
	InteractivityPath = "/slack/interactivity"
)

// Handler serves POST /slack/commands and POST /slack/interactivity. Every
// request is checked before anything runs: method (405), signature headers
// and timestamp window (401), body size (413: slack.max_body_bytes for a
// slash command; for interactivity, which carries whole views back, 2 MiB
// or slack.max_body_bytes if larger), the HMAC over the raw body (401),
// then content type and payload (400).
func (fd *FrontDoor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(CommandsPath, fd.serveCommand)
	mux.HandleFunc(InteractivityPath, fd.serveInteractivity)
	return mux
}

// serveCommand answers a slash command within the acknowledgement when it
// can, else acknowledges empty and delivers through response_url.
func (fd *FrontDoor) serveCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := fd.readSigned(w, r, fd.cfg.MaxBodyBytes)
	if !ok {
		return
	}
	cmd, err := parseSlash(body)
	if err != nil {
		fd.reject(w, r, http.StatusBadRequest, err)
		return
	}
	req := slashRequest(cmd)
	trig := newTrigger(cmd.TriggerID)
	later := func(ctx context.Context, rep *bot.Reply) { fd.answer(ctx, req, trig, cmd.ResponseURL, rep) }
	rep, late := fd.handleWithin(r.Context(), req, later)
	if late {
		w.WriteHeader(http.StatusOK)
		return
	}
	if rep.Form != nil {
		// Acknowledge empty at once; the form opens right after
		// (views.open), or the usage goes to response_url if it cannot.
		if err := fd.goBackground(r.Context(), func(ctx context.Context) { later(ctx, rep) }); err == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	writeMessage(w, Message(rep, fd.router.ButtonValue))
}

// serveInteractivity acknowledges a button click at once and runs it in
// the background; the answer goes to the click's response_url. A form's
// submission is answered with its response action. Its body may be as
// large as the largest submission of a form (maxSubmissionBytes).
func (fd *FrontDoor) serveInteractivity(w http.ResponseWriter, r *http.Request) {
	body, ok := fd.readSigned(w, r, max(fd.cfg.MaxBodyBytes, maxSubmissionBytes))
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		fd.reject(w, r, http.StatusBadRequest, ErrMalformed)
		return
	}
	payload := form.Get("payload")
	if payload == "" {
		fd.reject(w, r, http.StatusBadRequest, errors.New("slack: no payload field"))
		return
	}
	in, err := decodeInteraction([]byte(payload))
	if err != nil {
		fd.reject(w, r, http.StatusBadRequest, err)
		return
	}
	if in.Type == string(slackapi.InteractionTypeViewSubmission) {
		if resp := fd.submitView(r.Context(), in); resp != nil {
			writeJSON(w, resp)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := fd.interact(r.Context(), in); err != nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// readSigned returns the body of an authentic Slack request of at most
// limit bytes, or answers the request with the reason it was refused.
func (fd *FrontDoor) readSigned(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fd.reject(w, r, http.StatusMethodNotAllowed, errors.New("slack: method "+r.Method))
		return nil, false
	}
	if fd.cfg.SigningSecret == "" {
		fd.reject(w, r, http.StatusServiceUnavailable, errors.New("slack: HTTP endpoints need slack.signing_secret"))
		return nil, false
	}
	v := fd.verify
	ts, sig, err := v.checkHeaders(r.Header)
	if err != nil {
		fd.reject(w, r, http.StatusUnauthorized, err)
		return nil, false
	}
	if r.ContentLength > limit {
		fd.reject(w, r, http.StatusRequestEntityTooLarge, errors.New("slack: body too large"))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fd.reject(w, r, http.StatusRequestEntityTooLarge, errors.New("slack: body too large"))
		} else {
			fd.reject(w, r, http.StatusBadRequest, errors.New("slack: read body: "+err.Error()))
		}
		return nil, false
	}
	if !v.check(ts, sig, body) {
		fd.reject(w, r, http.StatusUnauthorized, ErrBadSignature)
		return nil, false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		fd.reject(w, r, http.StatusBadRequest, errors.New("slack: content type is not application/x-www-form-urlencoded"))
		return nil, false
	}
	return body, true
}

// reject answers a refused request; the reason is logged (it never holds a
// secret or the body) and the answer says only the status.
func (fd *FrontDoor) reject(w http.ResponseWriter, r *http.Request, status int, reason error) {
	fd.log.InfoContext(r.Context(), "request refused", "path", r.URL.Path, "status", status, "reason", reason.Error(), "remote_addr", r.RemoteAddr)
	http.Error(w, http.StatusText(status), status)
}

// shuttingDown is the answer to a command that arrives during shutdown.
var shuttingDown = &bot.Reply{IsError: true, Text: "idpbot is restarting; try again in a minute."}

// handleWithin runs a command and returns its reply if it is ready within
// the acknowledgement budget. Otherwise late is true and deliver gets the
// reply when it is ready. The command runs with ctx's values, not its
// cancellation: the acknowledgement does not stop it.
func (fd *FrontDoor) handleWithin(ctx context.Context, req *bot.Request, deliver func(ctx context.Context, rep *bot.Reply)) (rep *bot.Reply, late bool) {
	ready := make(chan *bot.Reply)
	tooLate := make(chan struct{})
	err := fd.goBackground(ctx, func(ctx context.Context) {
		rep := fd.router.Handle(ctx, req)
		select {
		case ready <- rep:
		case <-tooLate:
			deliver(ctx, rep)
		}
	})
	if err != nil {
		return shuttingDown, false
	}
	t := time.NewTimer(fd.cfg.AckBudget)
	defer t.Stop()
	select {
	case rep := <-ready:
		return rep, false
	case <-t.C:
	case <-ctx.Done():
	}
	close(tooLate)
	fd.log.DebugContext(ctx, "reply deferred to response_url", "request_id", req.ID)
	return nil, true
}

// interact runs a button click in the background and posts its reply to
// the click's response_url (or opens its form with the click's
// trigger_id). Payloads other than block_actions, and link buttons, need
// nothing but the acknowledgement.
func (fd *FrontDoor) interact(ctx context.Context, in *interaction) error {
	if in.Type != string(slackapi.InteractionTypeBlockActions) {
		fd.log.DebugContext(ctx, "interaction ignored", "type", in.Type)
		return nil
	}
	a, ok := in.clicked()
	if !ok {
		return nil
	}
	req := in.request()
	if in.ResponseURL == "" {
		fd.log.WarnContext(ctx, "click ignored: no response_url", "request_id", req.ID, "user_id", req.User.ID)
		return nil
	}
	trig := newTrigger(in.TriggerID)
	req.Forms = trig.id != ""
	return fd.goBackground(ctx, func(ctx context.Context) {
		fd.answer(ctx, req, trig, in.ResponseURL, fd.router.Click(ctx, req, a.Value))
	})
}

// writeJSON writes v as the 200 answer (a view_submission's response
// action).
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "render answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// writeMessage writes msg as the 200 answer of an acknowledgement.
func writeMessage(w http.ResponseWriter, msg *slackapi.WebhookMessage) {
	b, err := appendMessage(make([]byte, 0, 4096), msg)
	if err != nil {
		// Rendered messages are plain structs; this cannot happen.
		http.Error(w, "render reply", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
