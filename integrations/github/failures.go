package github

import (
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v75/github"
)

// What goes wrong with a repository falls in three classes:
//
//   - a content problem (*contentError): its files cannot be read as they
//     are (a file name with "..", a file over 1 MB, a Location target
//     outside the repository). It lasts until someone changes the files, so
//     it does not fail the sync: SyncReport.Problems and the log say it,
//     and the repository keeps its last good entities.
//   - a transient failure (transient): the network, a timeout, a 5xx, a
//     rate limit, a refused redirect, a malformed answer. It fails the sync
//     and postpones every removal (a failing repository may be the new name
//     of one that is gone from the listing).
//   - any other failure (GitHub refusing with a 4xx): it fails the sync and
//     keeps the repository's entities, but does not hold removals back.

// contentError is a problem of a repository's files, not of GitHub or the
// network.
type contentError struct{ err error }

func (e *contentError) Error() string { return e.err.Error() }
func (e *contentError) Unwrap() error { return e.err }

func contentErrorf(format string, a ...any) error {
	return &contentError{err: fmt.Errorf(format, a...)}
}

// isContentProblem reports whether err is a problem of a repository's
// files.
func isContentProblem(err error) bool {
	var ce *contentError
	return errors.As(err, &ce)
}

// transient reports whether a failure may pass by itself. A 4xx answer
// other than a rate limit is GitHub refusing the request: it lasts. Any
// other failure (no answer, a timeout, a 5xx, a rate limit, a refused
// redirect, a malformed answer) may pass.
func transient(err error) bool {
	if isContentProblem(err) {
		return false
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		code := er.Response.StatusCode
		return code >= http.StatusInternalServerError || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
	}
	return true
}
