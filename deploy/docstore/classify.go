package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
)

// access says which locks a request takes (see locks.go).
type access int

const (
	// exclusive: anything the front cannot classify, and commands that change what exists
	// (drop, dropDatabase, renameCollection, aggregations with $out/$merge). Waits for every
	// write in flight and keeps new ones out until it is answered.
	exclusive access = iota
	// write: changes documents of one collection; one at a time per collection.
	write
	// read: no lock.
	read
	// cursor: getMore/killCursors continue a cursor that already holds its PostgreSQL
	// connection; no lock, and they bypass the in-flight bound so that open cursors can
	// always drain (else cursors holding pool connections could starve the commands that
	// hold the in-flight slots).
	cursor
)

func (a access) String() string {
	switch a {
	case exclusive:
		return "exclusive"
	case write:
		return "write"
	case read:
		return "read"
	case cursor:
		return "cursor"
	}
	return "?"
}

// request is what the front needs to know about one client frame.
type request struct {
	access     access
	name       string // the command (first key of the body), "" if not an OP_MSG command
	db         string
	collection string
	// fire-and-forget (OP_MSG moreToCome): no reply will come
	noReply bool
	// createIndexes: the key fields of each index, in order
	indexes [][]string
	// renameCollection: "<db>.<collection>" names whose GIN cache entries must be dropped
	renamed []string
	// update: how many statements it carries (see batch.go)
	statements int
	// hello, isMaster or ismaster, as OP_MSG or legacy OP_QUERY: its reply's
	// maxWriteBatchSize is capped (see batch.go)
	hello bool
}

// target is "<db>.<collection>", the unit writes are serialised by.
func (r request) target() string { return r.db + "." + r.collection }

// Commands that change documents of the collection named by their first value.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
	"create": true, "createIndexes": true, "dropIndexes": true, "deleteIndexes": true,
	"compact": true,
}

// Commands that change nothing.
var readCommands = map[string]bool{
	"find": true, "count": true, "distinct": true, "listIndexes": true, "listCollections": true,
	"listDatabases": true, "hello": true, "isMaster": true, "ismaster": true, "ping": true,
	"buildInfo": true, "buildinfo": true, "getParameter": true, "serverStatus": true,
	"collStats": true, "dbStats": true, "dataSize": true, "explain": true, "connectionStatus": true,
	"whatsmyuri": true, "getLog": true, "hostInfo": true, "getCmdLineOpts": true,
	"listCommands": true, "validate": true, "endSessions": true, "saslStart": true,
	"saslContinue": true, "logout": true, "getFreeMonitoringStatus": true, "atlasVersion": true,
	"lockInfo": true, "currentOp": true,
}

// Commands that continue a cursor.
var cursorCommands = map[string]bool{"getMore": true, "killCursors": true}

// Commands that change which collections (and so which PostgreSQL tables) exist.
var dropCommands = map[string]bool{"drop": true, "dropDatabase": true, "renameCollection": true}

// classify reads one complete wire frame (header included). It never fails: what it
// cannot understand is exclusive.
func classify(frame []byte) (r request) {
	defer func() {
		if recover() != nil { // a decoder panic on a malformed frame must not stop the front
			r = request{access: exclusive}
		}
	}()
	r = request{access: exclusive}
	if len(frame) < wire.MsgHeaderLen || int(binary.LittleEndian.Uint32(frame)) != len(frame) {
		return r
	}
	_, body, err := wire.ReadMessage(bufio.NewReader(bytes.NewReader(frame)))
	if err != nil {
		return r
	}
	if query, ok := body.(*wire.OpQuery); ok {
		// drivers open each connection with a legacy OP_QUERY hello/isMaster: it stays
		// exclusive like every OP_QUERY, but its reply's maxWriteBatchSize is capped too
		q := query.Query()
		if strings.HasSuffix(query.FullCollectionName, ".$cmd") && q != nil && q.Len() > 0 && helloCommands[q.Command()] {
			r.name, r.hello = q.Command(), true
		}
		return r
	}
	msg, ok := body.(*wire.OpMsg)
	if !ok { // other OP_QUERY, OP_COMPRESSED, ...
		return r
	}
	r.noReply = msg.Flags.FlagSet(wire.OpMsgMoreToCome)
	raw := msg.RawSection0()
	if raw == nil {
		return r
	}
	doc, err := raw.Decode()
	if err != nil || doc.Len() == 0 {
		return r
	}
	r.name = doc.Command()
	r.db, _ = doc.Get("$db").(string)
	r.collection, _ = doc.Get(r.name).(string)

	switch {
	case writeCommands[r.name]:
		if r.db == "" || r.collection == "" {
			return r
		}
		if r.name == "createIndexes" {
			indexes, ok := indexKeys(doc.Get("indexes"))
			if !ok {
				return r // FerretDB will refuse it; no GIN for it either
			}
			r.indexes = indexes
		}
		if r.name == "update" {
			r.statements = statementCount(msg, doc, "updates")
		}
		r.access = write
	case cursorCommands[r.name]:
		r.access = cursor
	case readCommands[r.name]:
		r.access = read
		r.hello = helloCommands[r.name]
	case r.name == "aggregate":
		if pipelineReads(doc.Get("pipeline")) {
			r.access = read
		}
	case dropCommands[r.name]:
		// exclusive; remember what to forget in the GIN cache
		if r.name == "renameCollection" {
			to, _ := doc.Get("to").(string)
			r.renamed = []string{r.collection, to} // both are "<db>.<collection>"
		}
	}
	return r
}

// indexKeys returns the key fields of each index of a createIndexes command. An index
// whose key is not plain ascending/descending fields (text, hashed, 2dsphere...) is left
// out: FerretDB 1.x does not build those.
func indexKeys(v any) ([][]string, bool) {
	rawArr, ok := v.(wirebson.RawArray)
	if !ok {
		return nil, false
	}
	arr, err := rawArr.Decode()
	if err != nil {
		return nil, false
	}
	var out [][]string
	for i := range arr.Len() {
		rawSpec, ok := arr.Get(i).(wirebson.RawDocument)
		if !ok {
			return nil, false
		}
		spec, err := rawSpec.Decode()
		if err != nil {
			return nil, false
		}
		rawKey, ok := spec.Get("key").(wirebson.RawDocument)
		if !ok {
			return nil, false
		}
		key, err := rawKey.Decode()
		if err != nil {
			return nil, false
		}
		var fields []string
		plain := key.Len() > 0
		for j := range key.Len() {
			name, value := key.GetByIndex(j)
			switch value.(type) {
			case int32, int64, float64:
			default:
				plain = false
			}
			fields = append(fields, name)
		}
		if plain {
			out = append(out, fields)
		}
	}
	return out, true
}

// pipelineReads is true for an aggregation pipeline without $out or $merge stages.
func pipelineReads(v any) bool {
	rawArr, ok := v.(wirebson.RawArray)
	if !ok {
		return false
	}
	arr, err := rawArr.Decode()
	if err != nil {
		return false
	}
	for i := range arr.Len() {
		rawStage, ok := arr.Get(i).(wirebson.RawDocument)
		if !ok {
			return false
		}
		stage, err := rawStage.Decode()
		if err != nil || stage.Len() == 0 {
			return false
		}
		if name := stage.Command(); name == "$out" || name == "$merge" {
			return false
		}
	}
	return true
}

// replyOK is true when a reply frame is an OP_MSG whose body says ok: 1.
func replyOK(frame []byte) bool {
	_, body, err := wire.ReadMessage(bufio.NewReader(bytes.NewReader(frame)))
	if err != nil {
		return false
	}
	msg, ok := body.(*wire.OpMsg)
	if !ok {
		return false
	}
	raw := msg.RawSection0()
	if raw == nil {
		return false
	}
	doc, err := raw.Decode()
	if err != nil {
		return false
	}
	switch v := doc.Get("ok").(type) {
	case float64:
		return v == 1
	case int32:
		return v == 1
	case int64:
		return v == 1
	case bool:
		return v
	}
	return false
}
