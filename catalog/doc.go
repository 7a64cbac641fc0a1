// Package catalog owns idpbot's software catalog: the Backstage-compatible
// entity model and its validation, entity references, the relations derived
// between entities, the on-disk store (Badger, the source of truth), the
// full-text index (Bleve, derived from the store and repairable from it), and
// the queries the rest of idpbot asks: get, list by filter, search, and
// ownership resolution.
//
// It imports no other package of the project.
package catalog
