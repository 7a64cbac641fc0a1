package catalog

import (
	"regexp"
	"slices"
	"strings"
)

// The field-format rules of Backstage's catalog model
// (KubernetesValidatorFunctions and CommonValidatorFunctions). They decide
// which names, namespaces, kinds, apiVersions, labels, annotations and tags an
// entity may carry; validate.go applies them to entities.

var (
	objectNameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsLabelRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	kindRE       = regexp.MustCompile(`^[a-zA-Z][a-z0-9A-Z]*$`)
	apiSuffixRE  = regexp.MustCompile(`^[a-z0-9A-Z]+$`)
	tagRE        = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
)

// IsValidObjectName reports whether s is a valid metadata.name: 1–63
// characters, alphanumerics separated by '-', '_' or '.'.
func IsValidObjectName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && objectNameRE.MatchString(s)
}

// IsValidDNSLabel reports whether s is a lower-case DNS label (RFC 1123).
func IsValidDNSLabel(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && dnsLabelRE.MatchString(s)
}

// IsValidDNSSubdomain reports whether s is a DNS subdomain: dot-separated
// DNS labels, at most 253 characters.
func IsValidDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !IsValidDNSLabel(part) {
			return false
		}
	}
	return true
}

// IsValidNamespace reports whether s is a valid metadata.namespace.
func IsValidNamespace(s string) bool { return IsValidDNSLabel(s) }

// IsValidKind reports whether s is a valid entity kind.
func IsValidKind(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && kindRE.MatchString(s)
}

// IsValidAPIVersion reports whether s is a valid apiVersion: an optional DNS
// subdomain prefix and '/', then 1–63 alphanumerics.
func IsValidAPIVersion(s string) bool {
	// Nearly every entity has one of Backstage's own, valid by the general
	// rule (a test checks): skip that for them.
	return slices.Contains(backstageV1, s) || isValidAPIVersion(s)
}

func isValidAPIVersion(s string) bool {
	return prefixedName(s, func(v string) bool {
		return len(v) >= 1 && len(v) <= 63 && apiSuffixRE.MatchString(v)
	})
}

// IsValidLabelKey reports whether s is a valid label key: an optional DNS
// subdomain prefix and '/', then an object name.
func IsValidLabelKey(s string) bool { return prefixedName(s, IsValidObjectName) }

// IsValidLabelValue reports whether s is a valid label value: empty or an
// object name.
func IsValidLabelValue(s string) bool { return s == "" || IsValidObjectName(s) }

// IsValidAnnotationKey reports whether s is a valid annotation key (the same
// rule as label keys).
func IsValidAnnotationKey(s string) bool { return IsValidLabelKey(s) }

// IsValidAnnotationValue reports whether s is a valid annotation value: any
// string is.
func IsValidAnnotationValue(string) bool { return true }

// IsValidTag reports whether s is a valid tag: runs of [a-z0-9:+#] joined by
// single '-', 1–63 characters.
func IsValidTag(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && tagRE.MatchString(s)
}

func prefixedName(s string, name func(string) bool) bool {
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		return name(parts[0])
	case 2:
		return IsValidDNSSubdomain(parts[0]) && name(parts[1])
	default:
		return false
	}
}
