package discord

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// InteractionsPath is the path of the Interactions Endpoint URL to give
// Discord (General Information page of the application).
const InteractionsPath = "/discord/interactions"

// Handler serves POST /discord/interactions. Every request is checked
// before anything runs: method (405), signature headers and timestamp
// window (401), body size (413), the Ed25519 signature over the raw body
// (401), then the JSON (400). PING is answered with PONG.
func (fd *FrontDoor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(InteractionsPath, fd.serveInteraction)
	return mux
}

func (fd *FrontDoor) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := fd.readSigned(w, r)
	if !ok {
		return
	}
	in, err := decodeInteraction(body, fd.cfg.ApplicationID)
	if err != nil {
		fd.reject(w, r, http.StatusBadRequest, err)
		return
	}
	responded := false
	respond := func(_ context.Context, resp *response) error {
		responded = true
		return writeJSON(w, resp)
	}
	fd.interact(r.Context(), in, respond)
	if !responded {
		// Every interaction gets an answer; this is a bug if it happens.
		fd.log.ErrorContext(r.Context(), "interaction left unanswered", "interaction_type", int(in.Type))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// readSigned returns the body of an authentic Discord request, or answers
// the request with the reason it was refused.
func (fd *FrontDoor) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fd.reject(w, r, http.StatusMethodNotAllowed, errors.New("discord: method "+r.Method))
		return nil, false
	}
	ts, sig, err := checkHeaders(r.Header, fd.now(), fd.cfg.TimestampWindow)
	if err != nil {
		fd.reject(w, r, http.StatusUnauthorized, err)
		return nil, false
	}
	if r.ContentLength > fd.cfg.MaxBodyBytes {
		fd.reject(w, r, http.StatusRequestEntityTooLarge, errors.New("discord: body too large"))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fd.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fd.reject(w, r, http.StatusRequestEntityTooLarge, errors.New("discord: body too large"))
		} else {
			fd.reject(w, r, http.StatusBadRequest, errors.New("discord: read body: "+err.Error()))
		}
		return nil, false
	}
	if !verify(fd.key, ts, sig, body) {
		fd.reject(w, r, http.StatusUnauthorized, ErrBadSignature)
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

// writeJSON writes v as the 200 answer and flushes it, so that Discord has
// the initial response before any edit that follows it.
func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(b); err != nil {
		return err
	}
	if err := http.NewResponseController(w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
