package main

// Large update commands and FerretDB's connection pool.
//
// FerretDB 1.24.2 (internal/handler/msg_update.go, updateDocument) runs the statements of one
// `update` command in a loop; for each it opens a query (a pgx rows object, holding one pool
// connection) and registers its closer with `defer`, so the query is closed only when the
// whole command returns. An unlimited update reads its rows to the end, which releases the
// connection early, but an update with `multi: false` (PyMongo's UpdateOne) that matched a
// document stops after that document and keeps its connection. Statement k then holds k-1
// connections of earlier statements, one for its own query and one for its write
// transaction: k+1 in all. With a pool of P connections, an update of P or more matching
// UpdateOne statements waits for a connection that only its own end would free: it never
// answers, and everything else waiting for the pool hangs with it (measured with P=100:
// 99 statements answer, 100 hang). delete and findAndModify close their query before they
// write (msg_delete.go execDelete, one statement per findAndModify), so they need at most two.
//
// The front therefore
//   - caps maxWriteBatchSize in hello/isMaster replies, so that drivers split bulk writes
//     into commands of at most that many statements (PyMongo does);
//   - splits an update carrying more statements than that (a client ignoring the cap) into
//     updates of at most that many, relayed one after the other under the same locks, and
//     merges their replies (splitUpdate, updateReplies); one it cannot split is refused
//     with an ordinary MongoDB error reply (tooManyStatements), never relayed whole;
//   - admits commands to FerretDB by their connection cost (see cost) against a budget
//     below the pool size; see front.go for why that cannot deadlock.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
)

// helloCommands are the commands whose replies carry maxWriteBatchSize.
var helloCommands = map[string]bool{"hello": true, "isMaster": true, "ismaster": true}

// cost is the most pool connections FerretDB holds at once while serving r: statements+1
// for an update (see above), two for anything else (a query and a write transaction).
func cost(r request) int64 {
	if r.name == "update" && r.statements > 1 {
		return int64(r.statements) + 1
	}
	return 2
}

// statementCount returns the number of statements of a write command whose statements are
// in the array field (or document sequence) named field: section 0 or kind-1 sections.
func statementCount(msg *wire.OpMsg, doc *wirebson.Document, field string) int {
	n := 0
	for _, s := range msg.Sections() {
		if s.Kind == 1 && s.Identifier == field {
			n += len(s.Documents())
		}
	}
	if rawArr, ok := doc.Get(field).(wirebson.RawArray); ok {
		if arr, err := rawArr.Decode(); err == nil {
			n += arr.Len()
		}
	}
	return n
}

// refusal is the reply to a request that the front answers itself with a command error.
func refusal(requestID int32, code int32, codeName, errmsg string) ([]byte, error) {
	msg, err := wire.NewOpMsg(wirebson.MustDocument(
		"ok", float64(0),
		"errmsg", errmsg,
		"code", code,
		"codeName", codeName,
	))
	if err != nil {
		return nil, err
	}
	return encode(requestID, msg)
}

// tooManyStatements is the reply to an update with more statements than maxBatch.
func tooManyStatements(requestID int32, statements, maxBatch int) ([]byte, error) {
	return refusal(requestID, 16, "InvalidLength", fmt.Sprintf(
		"Write batch sizes must be between 1 and %d. Got %d operations. "+
			"(this store caps update batches: FerretDB 1.24 holds a connection per statement; "+
			"split the batch, as drivers do after hello's maxWriteBatchSize)",
		maxBatch, statements))
}

// encode frames a reply body: a fresh header answering requestID.
func encode(responseTo int32, body wire.MsgBody) ([]byte, error) {
	b, err := body.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var opCode wire.OpCode
	switch body.(type) {
	case *wire.OpMsg:
		opCode = wire.OpCodeMsg
	case *wire.OpReply:
		opCode = wire.OpCodeReply
	default:
		return nil, fmt.Errorf("cannot frame %T", body)
	}
	header := &wire.MsgHeader{
		MessageLength: int32(wire.MsgHeaderLen + len(b)),
		RequestID:     0,
		ResponseTo:    responseTo,
		OpCode:        opCode,
	}
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := wire.WriteMessage(w, header, body); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// requestID is the request ID of a complete frame (0 if it is too short).
func requestID(frame []byte) int32 {
	if len(frame) < wire.MsgHeaderLen {
		return 0
	}
	return int32(binary.LittleEndian.Uint32(frame[4:8]))
}

// capWriteBatch returns a hello/isMaster reply (OP_MSG, or OP_REPLY to a legacy OP_QUERY)
// with maxWriteBatchSize lowered to at most maxBatch; any other frame, or one it cannot
// decode, comes back unchanged.
func capWriteBatch(frame []byte, maxBatch int32) []byte {
	header, body, err := wire.ReadMessage(bufio.NewReader(bytes.NewReader(frame)))
	if err != nil {
		return frame
	}
	var raw wirebson.RawDocument
	switch b := body.(type) {
	case *wire.OpMsg:
		if len(b.Sections()) != 1 {
			return frame
		}
		raw = b.RawSection0()
	case *wire.OpReply:
		raw = b.RawDocument()
	default:
		return frame
	}
	if raw == nil {
		return frame
	}
	doc, err := raw.Decode()
	if err != nil {
		return frame
	}
	switch v := doc.Get("maxWriteBatchSize").(type) {
	case int32:
		if v <= maxBatch {
			return frame
		}
	case int64:
		if v <= int64(maxBatch) {
			return frame
		}
	case float64:
		if v <= float64(maxBatch) {
			return frame
		}
	default:
		return frame // absent: nothing to cap
	}
	if err := doc.Replace("maxWriteBatchSize", maxBatch); err != nil {
		return frame
	}

	var out wire.MsgBody
	switch b := body.(type) {
	case *wire.OpMsg:
		msg, err := wire.NewOpMsg(doc)
		if err != nil {
			return frame
		}
		msg.Flags = b.Flags &^ wire.OpMsgFlags(wire.OpMsgChecksumPresent) // the old checksum no longer fits
		out = msg
	case *wire.OpReply:
		b.SetDocument(doc)
		out = b
	}
	rewritten, err := encode(header.ResponseTo, out)
	if err != nil {
		return frame
	}
	binary.LittleEndian.PutUint32(rewritten[4:8], uint32(header.RequestID))
	return rewritten
}

// splitUpdate returns update commands of at most maxBatch statements each that together
// carry the statements of the update frame, in order, and whether the update is ordered.
// The parts keep every other field of the command and expect a reply (no moreToCome).
func splitUpdate(frame []byte, maxBatch int) (parts [][]byte, sizes []int, ordered bool, err error) {
	_, body, err := wire.ReadMessage(bufio.NewReader(bytes.NewReader(frame)))
	if err != nil {
		return nil, nil, false, err
	}
	msg, ok := body.(*wire.OpMsg)
	if !ok {
		return nil, nil, false, fmt.Errorf("not an OP_MSG: %T", body)
	}
	raw := msg.RawSection0()
	if raw == nil {
		return nil, nil, false, fmt.Errorf("no section 0")
	}
	doc, err := raw.Decode()
	if err != nil {
		return nil, nil, false, err
	}
	var statements []wirebson.RawDocument
	if rawArr, ok := doc.Get("updates").(wirebson.RawArray); ok {
		arr, err := rawArr.Decode()
		if err != nil {
			return nil, nil, false, err
		}
		for i := range arr.Len() {
			s, ok := arr.Get(i).(wirebson.RawDocument)
			if !ok {
				return nil, nil, false, fmt.Errorf("update statement %d is not a document", i)
			}
			statements = append(statements, s)
		}
	}
	for _, s := range msg.Sections() {
		if s.Kind == 1 && s.Identifier == "updates" {
			statements = append(statements, s.Documents()...)
		}
	}
	ordered = true
	if o, ok := doc.Get("ordered").(bool); ok {
		ordered = o
	}

	for start := 0; start < len(statements); start += maxBatch {
		chunk := statements[start:min(start+maxBatch, len(statements))]
		part, err := raw.Decode() // a fresh copy of the command
		if err != nil {
			return nil, nil, false, err
		}
		part.Remove("updates")
		arr := wirebson.MakeArray(len(chunk))
		for _, s := range chunk {
			if err := arr.Add(s); err != nil {
				return nil, nil, false, err
			}
		}
		if err := part.Add("updates", arr); err != nil {
			return nil, nil, false, err
		}
		partMsg, err := wire.NewOpMsg(part)
		if err != nil {
			return nil, nil, false, err
		}
		b, err := encode(0, partMsg)
		if err != nil {
			return nil, nil, false, err
		}
		binary.LittleEndian.PutUint32(b[4:8], uint32(requestID(frame)))
		parts = append(parts, b)
		sizes = append(sizes, len(chunk))
	}
	return parts, sizes, ordered, nil
}

// updateReplies merges the replies to the parts of a split update into the reply to the
// whole: n and nModified summed, upserted and writeErrors with their indexes shifted to the
// statements' places in the whole command.
type updateReplies struct {
	n, nModified          int64
	upserted, writeErrors *wirebson.Array
}

func newUpdateReplies() *updateReplies {
	return &updateReplies{upserted: wirebson.MakeArray(0), writeErrors: wirebson.MakeArray(0)}
}

// add takes the reply to the part whose first statement is at offset. It returns false
// with the reply to pass on as it is when the part failed as a whole (ok: 0), and
// stop=true when an ordered update must not go on (the part reported write errors).
func (u *updateReplies) add(doc *wirebson.Document, offset int, ordered bool) (ok, stop bool, err error) {
	if !isOK(doc.Get("ok")) {
		return false, true, nil
	}
	u.n += toInt64(doc.Get("n"))
	u.nModified += toInt64(doc.Get("nModified"))
	for _, field := range []string{"upserted", "writeErrors"} {
		rawArr, present := doc.Get(field).(wirebson.RawArray)
		if !present {
			continue
		}
		arr, err := rawArr.Decode()
		if err != nil {
			return false, true, err
		}
		for i := range arr.Len() {
			rawEntry, isDoc := arr.Get(i).(wirebson.RawDocument)
			if !isDoc {
				return false, true, fmt.Errorf("%s[%d] is not a document", field, i)
			}
			entry, err := rawEntry.Decode()
			if err != nil {
				return false, true, err
			}
			if err := entry.Replace("index", int32(toInt64(entry.Get("index"))+int64(offset))); err != nil {
				return false, true, err
			}
			target := u.upserted
			if field == "writeErrors" {
				target = u.writeErrors
				stop = ordered
			}
			if err := target.Add(entry); err != nil {
				return false, true, err
			}
		}
	}
	return true, stop, nil
}

// reply is the merged reply, answering requestID.
func (u *updateReplies) reply(requestID int32) ([]byte, error) {
	doc := wirebson.MakeDocument(5)
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(doc.Add("n", int32(u.n)))
	if u.upserted.Len() > 0 {
		must(doc.Add("upserted", u.upserted))
	}
	must(doc.Add("nModified", int32(u.nModified)))
	if u.writeErrors.Len() > 0 {
		must(doc.Add("writeErrors", u.writeErrors))
	}
	must(doc.Add("ok", float64(1)))
	msg, err := wire.NewOpMsg(doc)
	if err != nil {
		return nil, err
	}
	return encode(requestID, msg)
}

func isOK(v any) bool {
	switch v := v.(type) {
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

func toInt64(v any) int64 {
	switch v := v.(type) {
	case int32:
		return int64(v)
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

// bodyDocument decodes the section-0 document of an OP_MSG frame.
func bodyDocument(frame []byte) (*wirebson.Document, error) {
	_, body, err := wire.ReadMessage(bufio.NewReader(bytes.NewReader(frame)))
	if err != nil {
		return nil, err
	}
	msg, ok := body.(*wire.OpMsg)
	if !ok {
		return nil, fmt.Errorf("not an OP_MSG: %T", body)
	}
	raw := msg.RawSection0()
	if raw == nil {
		return nil, fmt.Errorf("no section 0")
	}
	return raw.Decode()
}
