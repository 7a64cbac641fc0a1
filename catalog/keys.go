package catalog

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// SchemaVersion is the version of the on-disk layout this binary writes. Every
// key below starts with "v1/"; keySchema records the version of a data
// directory so that a newer binary can migrate it and an older one refuses it.
const SchemaVersion = 1

// Key layout (schema 1). A ref is a canonical reference string; \x00
// separates parts, since no ref contains it.
//
//	idpbot/schema                      schema version (uvarint)
//	v1/e/<ref>                         pointer: hash, source, file, edges (binary)
//	v1/b/<ref>\x00<hash>               entity body (JSON), content-addressed
//	v1/r/<from>\x00<type>\x00<to>       reverse edge made by <to> (derived)
//	v1/s/<source>\x00<ref>             source membership: hash, line, file (derived)
//	v1/j/<id>                          ingest journal header
//	v1/j/<id>\x00p\x00<ref>            journal: new pointer of ref } written by earlier versions,
//	v1/j/<id>\x00d\x00<ref>            journal: ref is removed     } now in a file (journal.go)
//	v1/m/gen                           generation, bumped by every finished ingest
//	v1/m/source/<source>               last ingest report of a source
var (
	keySchema     = []byte("idpbot/schema")
	pfxEntity     = []byte("v1/e/")
	pfxBody       = []byte("v1/b/")
	pfxRel        = []byte("v1/r/")
	pfxSrc        = []byte("v1/s/")
	pfxJournal    = []byte("v1/j/")
	keyGen        = []byte("v1/m/gen")
	pfxSourceInfo = []byte("v1/m/source/")
)

func cat(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func entityKey(ref string) []byte { return cat(string(pfxEntity), ref) }

func bodyKey(ref string, hash uint64) []byte {
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], hash)
	return cat(string(pfxBody), ref, "\x00", hex.EncodeToString(h[:]))
}

// Relations. Every edge an entity produces has the entity at one end. The
// edges leaving it (From is the entity) are read from its pointer; the edges
// it gives others (To is the entity: its owner's ownerOf, its system's
// hasPart) are stored as relation keys under their From, so that an entity's
// relations are its pointer's edges plus one prefix scan. The entity that
// made a relation key is its To.

// relKey is the key of an edge whose To made it.
func relKey(e Edge) []byte {
	return cat(string(pfxRel), e.From, "\x00", e.Type, "\x00", e.To)
}

func relPrefix(from string) []byte { return cat(string(pfxRel), from, "\x00") }

// parseRelKey splits a relation key into its edge.
func parseRelKey(k []byte) (Edge, bool) {
	parts := strings.SplitN(string(k[len(pfxRel):]), "\x00", 3)
	if len(parts) != 3 {
		return Edge{}, false
	}
	return Edge{From: parts[0], Type: parts[1], To: parts[2]}, true
}

// givenEdge says whether an edge of ref's pointer is stored as a relation
// key (it points at ref from another entity).
func givenEdge(e Edge, ref string) bool { return e.From != ref }

func srcKey(source, ref string) []byte { return cat(string(pfxSrc), source, "\x00", ref) }
func srcPrefix(source string) []byte   { return cat(string(pfxSrc), source, "\x00") }

func journalKey(id string) []byte         { return cat(string(pfxJournal), id) }
func journalPrefix(id string) []byte      { return cat(string(pfxJournal), id, "\x00") }
func sourceInfoKey(source string) []byte  { return cat(string(pfxSourceInfo), source) }
func refFromEntityKey(k []byte) string    { return string(k[len(pfxEntity):]) }
func hasPrefix(k, prefix []byte) bool     { return bytes.HasPrefix(k, prefix) }
func uvarint(v uint64) []byte             { return binary.AppendUvarint(nil, v) }
func readUvarint(b []byte) (uint64, bool) { v, n := binary.Uvarint(b); return v, n > 0 }
