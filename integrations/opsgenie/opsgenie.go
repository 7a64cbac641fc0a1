// Package opsgenie tells who is on call for an owner from Opsgenie: the
// schedules of the team its opsgenie.com/team annotation names (or the one
// schedule opsgenie.com/schedule names), read from each schedule's final
// timeline — who is on call now, until when, and who is next — at the level
// the team's escalation notifies each schedule (its rules in order of
// delay: the first notified is level 1). Opsgenie
// users (whose usernames are e-mail addresses) are matched to catalog users
// by e-mail so that replies can mention them in chat.
//
// It uses the official SDK (github.com/opsgenie/opsgenie-go-sdk-v2) for the
// requests and the decoding, with its retries turned off and its logging
// discarded: the retries are oncall.RetryTransport's (honouring the context
// and Retry-After), and the scheme is the configured one (the SDK takes a
// host and guesses the scheme from it).
package opsgenie

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/opsgenie/opsgenie-go-sdk-v2/client"
	"github.com/opsgenie/opsgenie-go-sdk-v2/escalation"
	"github.com/opsgenie/opsgenie-go-sdk-v2/og"
	"github.com/opsgenie/opsgenie-go-sdk-v2/schedule"
	"github.com/sirupsen/logrus"

	"github.com/idpbot/idpbot/catalog"
	"github.com/idpbot/idpbot/integrations/oncall"
)

const provider = "opsgenie"

// Source answers who is on call from Opsgenie.
type Source struct {
	schedules   *schedule.Client
	escalations *escalation.Client
	cfg         Config
	people      *oncall.Directory
	log         *slog.Logger
	now         func() time.Time
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
	u, err := parseURL(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("opsgenie.api_url: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{cfg: cfg, people: oncall.NewDirectory(cat), log: log.With("oncall_source", provider), now: time.Now}
	rt := &oncall.RetryTransport{MaxWait: cfg.MaxRetryWait}
	for _, o := range opts {
		o(s, rt)
	}
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	quiet.SetLevel(logrus.PanicLevel)
	conf := func() *client.Config {
		return &client.Config{
			ApiKey:         cfg.APIKey,
			OpsGenieAPIURL: client.ApiUrl(u.Host),
			HttpClient:     &http.Client{Transport: schemeTransport{scheme: u.Scheme, base: rt}},
			RetryPolicy:    noRetry,
			Logger:         quiet,
		}
	}
	if s.schedules, err = schedule.NewClient(conf()); err != nil {
		return nil, fmt.Errorf("opsgenie: create client: %w", err)
	}
	if s.escalations, err = escalation.NewClient(conf()); err != nil {
		return nil, fmt.Errorf("opsgenie: create client: %w", err)
	}
	return s, nil
}

// noRetry leaves the retries to oncall.RetryTransport, whose waits end with
// the context (the SDK's sleep ignores it).
func noRetry(context.Context, *http.Response, error) (bool, error) { return false, nil }

// schemeTransport sends the SDK's requests with the configured scheme: the
// SDK picks https for hosts containing "api" and plain http for others.
type schemeTransport struct {
	scheme string
	base   http.RoundTripper
}

func (t schemeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != t.scheme {
		req = req.Clone(req.Context())
		req.URL.Scheme = t.scheme
	}
	return t.base.RoundTrip(req)
}

// scheduleRef is a schedule to read: by id (found through the team) or by
// name (from the annotation).
type scheduleRef struct {
	ident schedule.Identifier
	value string
	name  string
}

// OnCall answers for the team opsgenie.com/team names (every enabled
// schedule it owns) or the schedule opsgenie.com/schedule names; nil
// without either annotation or when the team owns no schedule.
func (s *Source) OnCall(ctx context.Context, o *catalog.Ownership) (*catalog.OnCall, error) {
	team := oncall.Annotation(o, catalog.AnnotationOpsgenieTeam)
	named := oncall.Annotation(o, oncall.AnnotationOpsgenieSchedule)
	if team == "" && named == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	now := s.now().UTC()

	var refs []scheduleRef
	if named != "" {
		if !validName(named) {
			return nil, &oncall.Error{Provider: provider, Op: "read annotation " + oncall.AnnotationOpsgenieSchedule,
				Kind: oncall.ErrBadAnnotation, Detail: fmt.Sprintf("%.40q is not a schedule name", named)}
		}
		refs = append(refs, scheduleRef{ident: schedule.Name, value: named, name: named})
	} else {
		var err error
		if refs, err = s.teamSchedules(ctx, team); err != nil {
			return nil, err
		}
		if len(refs) == 0 {
			s.log.InfoContext(ctx, "opsgenie team owns no enabled schedule", "team", team)
			return nil, nil
		}
	}

	var timelines []timeline
	var emails []string
	for _, ref := range refs {
		tl, err := s.timeline(ctx, ref, now)
		if err != nil {
			return nil, err
		}
		timelines = append(timelines, tl)
		emails = append(emails, tl.emails()...)
	}
	people, err := s.people.People(ctx, emails)
	if err != nil {
		return nil, err
	}
	levels := s.levels(ctx, team)
	oc := &catalog.OnCall{AsOf: now}
	for _, tl := range timelines {
		nowShifts, next := tl.shifts(now, people, levels.of(tl))
		oc.Now = append(oc.Now, nowShifts...)
		oc.Next = append(oc.Next, next...)
	}
	oncall.SortShifts(oc.Now)
	oncall.SortShifts(oc.Next)
	s.log.DebugContext(ctx, "on-call from opsgenie", "team", team, "schedule", named,
		"schedules", len(refs), "now", len(oc.Now), "next", len(oc.Next))
	return oc, nil
}

// teamSchedules lists the enabled schedules team (a name or an id) owns.
func (s *Source) teamSchedules(ctx context.Context, team string) ([]scheduleRef, error) {
	const op = "list schedules"
	expand := false
	res, err := s.schedules.List(ctx, &schedule.ListRequest{Expand: &expand})
	if err != nil {
		return nil, s.apiError(ctx, op, err)
	}
	var refs []scheduleRef
	for _, sc := range res.Schedule {
		if !sc.Enabled || sc.OwnerTeam == nil || sc.Id == "" {
			continue
		}
		if strings.EqualFold(sc.OwnerTeam.Name, team) || sc.OwnerTeam.Id == team {
			refs = append(refs, scheduleRef{ident: schedule.Id, value: sc.Id, name: sc.Name})
		}
	}
	return refs, nil
}

// timeline is one schedule's final timeline.
type timeline struct {
	name string
	res  *schedule.TimelineResult
}

func (s *Source) timeline(ctx context.Context, ref scheduleRef, now time.Time) (timeline, error) {
	op := "get timeline of schedule " + ref.name
	days := int(math.Ceil(s.cfg.Lookahead.Hours() / 24))
	res, err := s.schedules.GetTimeline(ctx, &schedule.GetTimelineRequest{
		IdentifierType: ref.ident, IdentifierValue: ref.value,
		Interval: days, IntervalUnit: schedule.Days, Date: &now,
	})
	if err != nil {
		return timeline{}, s.apiError(ctx, op, err)
	}
	name := res.ScheduleInfo.Name
	if name == "" {
		name = ref.name
	}
	return timeline{name: name, res: res}, nil
}

func (tl timeline) emails() []string {
	var out []string
	for _, r := range tl.res.FinalTimeline.Rotations {
		for _, p := range r.Periods {
			if p.Recipient.Type == "user" {
				out = append(out, p.Recipient.Name)
			}
		}
	}
	return out
}

// shifts are the periods covering now and, per rotation, the first to
// start after now, at the schedule's escalation level.
func (tl timeline) shifts(now time.Time, people map[string]catalog.Person, level int) (nowShifts, next []catalog.Shift) {
	rotations := tl.res.FinalTimeline.Rotations
	for _, r := range rotations {
		var first *catalog.Shift
		for _, p := range r.Periods {
			who, ok := recipient(p, people)
			if !ok || !p.EndDate.After(now) {
				continue
			}
			sched := tl.name
			if len(rotations) > 1 && r.Name != "" {
				sched += " (" + r.Name + ")"
			}
			if p.Type == "override" {
				sched += " (override)"
			}
			sh := catalog.Shift{Person: who, Level: level, Schedule: sched, Source: provider,
				Start: p.StartDate.UTC(), End: p.EndDate.UTC()}
			if !p.StartDate.After(now) {
				nowShifts = append(nowShifts, sh)
			} else if first == nil || sh.Start.Before(first.Start) {
				first = &sh
			}
		}
		if first != nil {
			next = append(next, *first)
		}
	}
	return nowShifts, next
}

// escalationLevels maps schedules (by id and by lower-cased name) to the
// level at which an escalation notifies them.
type escalationLevels map[string]int

// of is tl's level: 1 when no escalation names its schedule.
func (l escalationLevels) of(tl timeline) int {
	info := tl.res.ScheduleInfo
	for _, k := range []string{info.Id, strings.ToLower(info.Name), strings.ToLower(tl.name)} {
		if n, ok := l[k]; ok && k != "" {
			return n
		}
	}
	return 1
}

// levels reads the escalations (those team owns, when team is set) and
// numbers each one's rules by delay: the schedule notified first is level
// 1, the one notified after the next delay level 2, and so on. Opsgenie
// schedules carry no level of their own: it is the escalation's order.
// The escalations only refine the answer: when they cannot be read, every
// schedule is level 1 and the lookup goes on.
func (s *Source) levels(ctx context.Context, team string) escalationLevels {
	res, err := s.escalations.List(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "opsgenie escalations not read; every schedule is shown at level 1", "error", s.apiError(ctx, "list escalations", err).Error())
		return nil
	}
	out := escalationLevels{}
	for _, esc := range res.Escalations {
		if team != "" && (esc.OwnerTeam == nil || !(strings.EqualFold(esc.OwnerTeam.Name, team) || esc.OwnerTeam.Id == team)) {
			continue
		}
		rules := make([]escalation.Rule, len(esc.Rules))
		copy(rules, esc.Rules)
		sort.SliceStable(rules, func(i, j int) bool { return delay(rules[i].Delay) < delay(rules[j].Delay) })
		level, last := 0, time.Duration(-1)
		for _, r := range rules {
			if d := delay(r.Delay); d != last {
				level, last = level+1, d
			}
			if r.Recipient.Type != "schedule" {
				continue
			}
			for _, k := range []string{r.Recipient.Id, strings.ToLower(r.Recipient.Name)} {
				if k == "" {
					continue
				}
				if have, ok := out[k]; !ok || level < have {
					out[k] = level
				}
			}
		}
	}
	return out
}

// delay is an escalation rule's delay as a duration.
func delay(d escalation.EscalationDelay) time.Duration {
	unit := time.Minute
	switch d.TimeUnit {
	case og.Hours:
		unit = time.Hour
	case og.Days:
		unit = 24 * time.Hour
	}
	return time.Duration(d.TimeAmount) * unit
}

// recipient is the person a period names; false for nobody ("none").
func recipient(p schedule.Period, people map[string]catalog.Person) (catalog.Person, bool) {
	switch p.Recipient.Type {
	case "user":
		return oncall.Person(people, p.Recipient.Name, p.Recipient.Name), true
	case "", "none":
		return catalog.Person{}, false
	default: // team, escalation
		return catalog.Person{DisplayName: p.Recipient.Name}, p.Recipient.Name != ""
	}
}

// validName rejects what would change the request path of a schedule
// named in an annotation.
func validName(name string) bool {
	return len(name) <= 100 && !strings.ContainsAny(name, "/?#%\\") &&
		!strings.ContainsFunc(name, func(r rune) bool { return r < ' ' })
}

// apiError turns an SDK error into an oncall.Error whose message is safe
// for chat.
func (s *Source) apiError(ctx context.Context, op string, err error) error {
	var apiErr *client.ApiError
	var urlErr *url.Error
	switch {
	case errors.As(err, &apiErr):
		return oncall.HTTPError(provider, op, apiErr.StatusCode, err)
	case ctx.Err() != nil, errors.As(err, &urlErr):
		return oncall.TransportError(ctx, provider, op, 0, err)
	default:
		// The SDK's other errors come from decoding the body.
		return oncall.MalformedError(provider, op, err)
	}
}
