package bot

import (
	"errors"
	"fmt"
)

// UserError is a problem the person in chat can fix (a typo, a missing
// argument, an unknown name). Its message is shown to them as is; every other
// error is internal: logged with the request id and shown only as that id.
type UserError struct {
	Message string
	// Hint says how to fix it ("usage: /idp who-owns <entity>").
	Hint string
	// Buttons offer the likely fixes (did-you-mean candidates).
	Buttons []Button
}

func (e *UserError) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + " (" + e.Hint + ")"
}

// Errorf makes a UserError.
func Errorf(format string, args ...any) *UserError {
	return &UserError{Message: fmt.Sprintf(format, args...)}
}

// WithHint sets the hint and returns e.
func (e *UserError) WithHint(format string, args ...any) *UserError {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// AsUserError finds a UserError in err's chain.
func AsUserError(err error) (*UserError, bool) {
	var ue *UserError
	ok := errors.As(err, &ue)
	return ue, ok
}
