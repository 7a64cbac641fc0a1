// Package scoring evaluates scorecards: rules as code over catalog entities
// and facts, giving each entity a level and a score, and each team a
// standing over what it and its sub-teams own.
//
// A scorecard is a YAML document beside the catalog:
//
//	apiVersion: idpbot.dev/v1alpha1
//	kind: Scorecard
//	metadata:
//	  name: production-readiness
//	  title: Production readiness
//	spec:
//	  appliesTo: [kind=component,spec.type=service]   # the catalog's filter syntax
//	  levels: [Bronze, Silver, Gold]                  # lowest first
//	  rules:
//	    - id: has-owner
//	      title: Has an owner
//	      level: Bronze
//	      weight: 2
//	      expr: has(entity.spec.owner)
//	      fix: Add spec.owner to catalog-info.yaml.
//	      link: https://backstage.io/docs/features/software-catalog/descriptor-format
//
// Rules are CEL expressions over `entity` (the Backstage shape: apiVersion,
// kind, metadata, spec, relations) and `facts` (a map of named values pushed
// by integrations and pipelines). They compile once at load; an expression
// that does not compile, is not boolean, or selects a field the entity does
// not have is reported with file, line and rule id.
//
// A rule passes, fails, or errors (a missing fact, a wrong type), with the
// reason. An entity's level is cumulative: the highest level whose rules,
// and those of every lower level, all pass. Its score is the weighted share
// of rules passed, 0 to 100. The package imports only the catalog.
package scoring
