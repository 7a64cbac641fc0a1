// Package apiurl checks the API base URLs of the integrations' settings
// (pagerduty.api_url, opsgenie.api_url, github.base_url): https, or plain
// http for loopback hosts only (tests, a local proxy), so that credentials
// never travel in the clear; no credentials, query or fragment in the URL.
package apiurl

import (
	"fmt"
	"net"
	"net/url"
)

// Parse checks raw. example is a valid URL for the message, secret what
// would travel in the clear ("token", "key").
func Parse(raw, example, secret string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%q is not a URL like %s", raw, example)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q: give the base URL only, without credentials, query or fragment", u.Redacted())
	}
	if u.Scheme == "http" && !Loopback(u.Hostname()) {
		return nil, fmt.Errorf("%q: use https (plain http only for localhost), the %s would travel in the clear", raw, secret)
	}
	return u, nil
}

// Loopback says whether host is localhost or a loopback address.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
