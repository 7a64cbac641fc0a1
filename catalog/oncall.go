package catalog

import "time"

// OnCall is who is on call for an owner, now and next, as an on-call
// provider (PagerDuty, Opsgenie, rotations kept in the catalog) tells it.
type OnCall struct {
	// Now and Next are ordered by escalation level, then start.
	Now  []Shift `json:"now"`
	Next []Shift `json:"next,omitempty"`
	// AsOf is when the provider gave this answer; a cached answer served
	// because the provider is slow or down has Stale set.
	AsOf  time.Time `json:"asOf"`
	Stale bool      `json:"stale,omitempty"`
}

// Shift is one person on call.
type Shift struct {
	Person Person `json:"person"`
	// Level is the escalation level, 1 for the first responder.
	Level int `json:"level"`
	// Schedule names the rotation, schedule or escalation policy.
	Schedule string `json:"schedule"`
	// Source is the provider: rotation, pagerduty, opsgenie.
	Source string    `json:"source"`
	Start  time.Time `json:"start"`
	// End is zero when the shift has no known end.
	End time.Time `json:"end"`
	// PageURL is where to page the person or the service, if known.
	PageURL string `json:"pageUrl,omitempty"`
}

// PersonOf is the person a User entity describes, with their chat ids.
func PersonOf(u *Entity) Person { return person(u) }
