package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/idpbot/idpbot/integrations/check"
	"github.com/idpbot/idpbot/integrations/oncall"
)

// maxCheckedServices bounds the services Check looks at.
const maxCheckedServices = 25

// Check tests what `idpbot integrations check` reports for PagerDuty: the
// key is accepted, each service the catalog names (services maps a
// pagerduty.com/service-id value to the entities naming it) exists and has
// an escalation policy, and the people on call for them now are catalog
// users (matched by e-mail), so that replies can mention them.
func (s *Source) Check(ctx context.Context, services map[string][]string) []check.Result {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	res := func(name string, err error, detail, fix string) check.Result {
		r := check.Result{Integration: provider, Check: name, OK: err == nil, Detail: detail}
		if err != nil {
			r.Detail, r.Fix = err.Error(), fix
		}
		return r
	}
	var out []check.Result
	abilities, err := s.client.ListAbilitiesWithContext(ctx)
	if err != nil {
		err = s.apiError(ctx, "list abilities", err)
		out = append(out, res("api key", err, "", fixFor(err, s.cfg.APIURL)))
		return out // nothing else can work
	}
	out = append(out, res("api key", nil, fmt.Sprintf("accepted by %s (%d account abilities)", s.cfg.APIURL, len(abilities.Abilities)), ""))
	if len(services) == 0 {
		out = append(out, check.Result{Integration: provider, Check: "services", OK: true,
			Detail: "no catalog entity has a " + "pagerduty.com/service-id annotation; on-call comes from rotations"})
		return out
	}
	ids := make([]string, 0, len(services))
	for id := range services {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) > maxCheckedServices {
		out = append(out, check.Result{Integration: provider, Check: "services", OK: true,
			Detail: fmt.Sprintf("%d services named; checking the first %d", len(ids), maxCheckedServices)})
		ids = ids[:maxCheckedServices]
	}
	var emails []string
	for _, id := range ids {
		name := "service " + id + " (" + strings.Join(services[id], ", ") + ")"
		if !serviceID.MatchString(id) {
			out = append(out, res(name, errors.New("not a PagerDuty service id"), "",
				"set pagerduty.com/service-id to the id in the service's URL, e.g. PX7Q2LM"))
			continue
		}
		svc, err := s.client.GetServiceWithContext(ctx, id, &pd.GetServiceOptions{})
		if err != nil {
			err = s.apiError(ctx, "get service "+id, err)
			out = append(out, res(name, err, "", fixFor(err, s.cfg.APIURL)))
			continue
		}
		if svc.EscalationPolicy.ID == "" {
			out = append(out, res(name, errors.New("the service has no escalation policy"), "", "give the service an escalation policy in PagerDuty"))
			continue
		}
		now := s.now().UTC()
		oc, err := s.client.ListOnCallsWithContext(ctx, pd.ListOnCallOptions{Limit: pageLimit, TimeZone: "UTC",
			EscalationPolicyIDs: []string{svc.EscalationPolicy.ID}, Includes: []string{"users"},
			Since: now.Format(time.RFC3339), Until: now.Add(time.Minute).Format(time.RFC3339)})
		if err != nil {
			err = s.apiError(ctx, "list on-calls of "+svc.EscalationPolicy.ID, err)
			out = append(out, res(name, err, "", fixFor(err, s.cfg.APIURL)))
			continue
		}
		for _, e := range oc.OnCalls {
			if e.User.Email != "" {
				emails = append(emails, e.User.Email)
			}
		}
		out = append(out, res(name, nil, fmt.Sprintf("%q, escalation policy %q, %d on call now", svc.Name, svc.EscalationPolicy.Summary, len(oc.OnCalls)), ""))
	}
	if len(emails) > 0 {
		out = append(out, s.people.CheckPeople(ctx, provider, "on call now", emails))
	}
	return out
}

// fixFor says what to do about a failed PagerDuty call.
func fixFor(err error, apiURL string) string {
	switch {
	case errors.Is(err, oncall.ErrUnauthorized):
		return "the key is refused: create a read-only REST API key (Integrations → API Access Keys) and set pagerduty.token or PAGERDUTY_TOKEN"
	case errors.Is(err, oncall.ErrNotFound):
		return "no such service, or the key cannot see it: fix the pagerduty.com/service-id annotation (the id in the service's URL)"
	case errors.Is(err, oncall.ErrUnavailable):
		return "PagerDuty did not answer at " + apiURL + ": check the network path (proxy, firewall) and pagerduty.api_url (https://api.eu.pagerduty.com for the EU region)"
	default:
		return "check pagerduty.api_url; the answer was not PagerDuty's API"
	}
}
