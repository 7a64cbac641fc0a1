// Package pagerduty tells who is on call for an owner from PagerDuty: the
// service its pagerduty.com/service-id annotation names, that service's
// escalation policy, and the policy's on-calls now and within the
// lookahead, by escalation level. PagerDuty users are matched to catalog
// users by e-mail so that replies can mention them in chat.
package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/oncall"
)

const (
	provider = "pagerduty"
	// pageLimit is the page size asked of /oncalls (its maximum).
	pageLimit = 100
	// maxPages bounds the pagination of one lookup, should a server keep
	// saying there is more.
	maxPages = 50
)

// serviceID is the shape of a PagerDuty object id (PX7Q2LM); checking it
// keeps annotation values out of request paths.
var serviceID = regexp.MustCompile(`^[A-Z0-9]{2,20}$`)

// Source answers who is on call from PagerDuty.
type Source struct {
	client *pd.Client
	cfg    Config
	people *oncall.Directory
	log    *slog.Logger
	now    func() time.Time
}

var _ oncall.Source = (*Source)(nil)

// Option configures a Source.
type Option func(*Source, *oncall.RetryTransport)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option {
	return func(s *Source, _ *oncall.RetryTransport) { s.now = now }
}

// WithRetrySleep replaces the wait between retries (tests).
func WithRetrySleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(_ *Source, t *oncall.RetryTransport) { t.Sleep = sleep }
}

// WithTransport sets the HTTP transport under the retries (tests, proxies).
func WithTransport(rt http.RoundTripper) Option {
	return func(_ *Source, t *oncall.RetryTransport) { t.Base = rt }
}

// New returns a Source for cfg, mapping users through cat (a
// *catalog.Store; nil maps nobody). A nil log discards.
func New(cfg Config, cat oncall.Users, log *slog.Logger, opts ...Option) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{cfg: cfg, people: oncall.NewDirectory(cat), log: log.With("oncall_source", provider), now: time.Now}
	rt := &oncall.RetryTransport{MaxWait: cfg.MaxRetryWait}
	for _, o := range opts {
		o(s, rt)
	}
	s.client = pd.NewClient(cfg.Token, pd.WithAPIEndpoint(cfg.APIURL))
	s.client.HTTPClient = &http.Client{Transport: rt}
	return s, nil
}

// OnCall answers for the service the ownership answer's
// pagerduty.com/service-id names; nil without that annotation.
func (s *Source) OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error) {
	id := oncall.Annotation(o, catalog.AnnotationPagerDutyServiceID)
	if id == "" {
		return nil, nil
	}
	if !serviceID.MatchString(id) {
		return nil, &oncall.Error{Provider: provider, Op: "read annotation " + catalog.AnnotationPagerDutyServiceID,
			Kind: oncall.ErrBadAnnotation, Detail: fmt.Sprintf("%.40q is not a PagerDuty service id like PX7Q2LM", id)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	now := s.now().UTC()

	op := "get service " + id
	svc, err := s.client.GetServiceWithContext(ctx, id, &pd.GetServiceOptions{})
	if err != nil {
		return nil, s.apiError(ctx, op, err)
	}
	policy := svc.EscalationPolicy
	if policy.ID == "" {
		return nil, oncall.MalformedError(provider, op, errors.New("the service has no escalation_policy"))
	}

	op = "list on-calls of escalation policy " + policy.ID
	var entries []pd.OnCall
	opts := pd.ListOnCallOptions{
		Limit: pageLimit, TimeZone: "UTC",
		EscalationPolicyIDs: []string{policy.ID},
		Includes:            []string{"users"},
		Since:               now.Format(time.RFC3339),
		Until:               now.Add(s.cfg.Lookahead).Format(time.RFC3339),
	}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, oncall.MalformedError(provider, op, fmt.Errorf("more than %d pages", maxPages))
		}
		resp, err := s.client.ListOnCallsWithContext(ctx, opts)
		if err != nil {
			return nil, s.apiError(ctx, op, err)
		}
		entries = append(entries, resp.OnCalls...)
		if !resp.More || len(resp.OnCalls) == 0 {
			break
		}
		opts.Offset = resp.Offset + uint(len(resp.OnCalls))
	}

	oc, err := s.shifts(ctx, now, svc, entries)
	if err != nil {
		return nil, err
	}
	s.log.DebugContext(ctx, "on-call from pagerduty", "service_id", id, "escalation_policy_id", policy.ID,
		"entries", len(entries), "now", len(oc.Now), "next", len(oc.Next))
	return oc, nil
}

// shifts turns the on-call entries of the service's policy into the shifts
// now (covering now) and next (the first to start after now, per level and
// schedule).
func (s *Source) shifts(ctx context.Context, now time.Time, svc *pd.Service, entries []pd.OnCall) (*catalog.OnCall, error) {
	const op = "read on-calls"
	var emails []string
	for _, e := range entries {
		emails = append(emails, e.User.Email)
	}
	people, err := s.people.People(ctx, emails)
	if err != nil {
		return nil, err
	}
	type slot struct {
		level    uint
		schedule string
	}
	oc := &catalog.OnCall{AsOf: now}
	seenNow := map[string]bool{}
	next := map[slot]catalog.Shift{}
	var order []slot
	for _, e := range entries {
		start, err := parseTime(e.Start)
		if err != nil {
			return nil, oncall.MalformedError(provider, op, fmt.Errorf("start of an on-call: %w", err))
		}
		end, err := parseTime(e.End)
		if err != nil {
			return nil, oncall.MalformedError(provider, op, fmt.Errorf("end of an on-call: %w", err))
		}
		if e.User.ID == "" && e.User.Email == "" {
			continue // nobody (an empty schedule layer)
		}
		sched := e.Schedule.Summary
		if sched == "" {
			sched = e.EscalationPolicy.Summary
		}
		if sched == "" {
			sched = svc.EscalationPolicy.Summary
		}
		name := e.User.Name
		if name == "" {
			name = e.User.Summary
		}
		sh := catalog.Shift{
			Person: oncall.Person(people, e.User.Email, name), Level: int(e.EscalationLevel),
			Schedule: sched, Source: provider, Start: start, End: end, PageURL: svc.HTMLURL,
		}
		switch {
		case !start.After(now) && (end.IsZero() || end.After(now)):
			k := fmt.Sprintf("%d|%s|%s", e.EscalationLevel, e.Schedule.ID, e.User.ID)
			if !seenNow[k] {
				seenNow[k] = true
				oc.Now = append(oc.Now, sh)
			}
		case start.After(now):
			k := slot{e.EscalationLevel, e.Schedule.ID}
			have, ok := next[k]
			if !ok {
				order = append(order, k)
			}
			if !ok || start.Before(have.Start) {
				next[k] = sh
			}
		}
	}
	for _, k := range order {
		oc.Next = append(oc.Next, next[k])
	}
	oncall.SortShifts(oc.Now)
	oncall.SortShifts(oc.Next)
	return oc, nil
}

// parseTime reads an on-call's start or end; empty (null: always on call,
// never off) is the zero time.
func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, v)
}

// apiError turns a go-pagerduty error into an oncall.Error whose message is
// safe for chat. go-pagerduty reports HTTP statuses as APIError, flattens
// transport errors into "error calling the API endpoint: …" (losing their
// type, hence the context check) and returns decoding errors as they come.
func (s *Source) apiError(ctx context.Context, op string, err error) error {
	var apiErr pd.APIError
	switch {
	case errors.As(err, &apiErr):
		return oncall.HTTPError(provider, op, apiErr.StatusCode, err)
	case ctx.Err() != nil:
		return oncall.TransportError(ctx, provider, op, 0, err)
	case strings.HasPrefix(err.Error(), "error calling the API endpoint"):
		return oncall.TransportError(ctx, provider, op, 0, err)
	default:
		return oncall.MalformedError(provider, op, err)
	}
}
