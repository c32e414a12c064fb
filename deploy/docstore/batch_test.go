package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
)

// decodeReply returns the header and body document of an OP_MSG or OP_REPLY frame.
func decodeReply(t *testing.T, frame []byte) (*wire.MsgHeader, *wirebson.Document) {
	t.Helper()
	header, body, err := wire.ReadMessage(bufio.NewReader(bytes.NewReader(frame)))
	if err != nil {
		t.Fatal(err)
	}
	var raw wirebson.RawDocument
	switch b := body.(type) {
	case *wire.OpMsg:
		raw = b.RawSection0()
	case *wire.OpReply:
		raw = b.RawDocument()
	default:
		t.Fatalf("unexpected %T", body)
	}
	doc, err := raw.Decode()
	if err != nil {
		t.Fatal(err)
	}
	return header, doc
}

// withIDs sets a frame's request ID and responseTo.
func withIDs(frame []byte, requestID, responseTo int32) []byte {
	binary.LittleEndian.PutUint32(frame[4:8], uint32(requestID))
	binary.LittleEndian.PutUint32(frame[8:12], uint32(responseTo))
	return frame
}

func TestHelloRepliesCarryTheCappedMaxWriteBatchSize(t *testing.T) {
	msgReply := withIDs(opMsg(t,
		"isWritablePrimary", true, "maxBsonObjectSize", int32(16777216),
		"maxWriteBatchSize", int32(100000), "maxWireVersion", int32(21), "ok", float64(1),
	), 11, 7)
	legacy, err := wire.NewOpReply(wirebson.MustDocument(
		"ismaster", true, "maxWriteBatchSize", int32(100000), "ok", float64(1),
	))
	if err != nil {
		t.Fatal(err)
	}
	legacyBody, err := legacy.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	legacyReply := withIDs(frame(t, wire.OpCodeReply, legacyBody), 12, 8)

	for name, tc := range map[string]struct {
		reply      []byte
		responseTo int32
		fields     int
	}{"OP_MSG": {msgReply, 7, 5}, "OP_REPLY": {legacyReply, 8, 3}} {
		header, doc := decodeReply(t, capWriteBatch(tc.reply, 48))
		if got := doc.Get("maxWriteBatchSize"); got != int32(48) {
			t.Errorf("%s: maxWriteBatchSize %v, want 48", name, got)
		}
		if doc.Len() != tc.fields || doc.Get("ok") != float64(1) {
			t.Errorf("%s: other fields changed: %v", name, doc)
		}
		original, _ := decodeReply(t, tc.reply)
		if header.ResponseTo != tc.responseTo || header.RequestID != original.RequestID || header.OpCode != original.OpCode {
			t.Errorf("%s: header %+v, was %+v", name, header, original)
		}
	}

	// lower values and replies without the field pass byte for byte
	small := opMsg(t, "maxWriteBatchSize", int32(10), "ok", float64(1))
	none := opMsg(t, "ok", float64(1))
	for _, reply := range [][]byte{small, none, []byte("garbage")} {
		if got := capWriteBatch(reply, 48); !bytes.Equal(got, reply) {
			t.Errorf("%q was rewritten", reply)
		}
	}
}

func TestHelloRequestsAreRecognisedInBothForms(t *testing.T) {
	for _, name := range []string{"hello", "isMaster", "ismaster"} {
		if r := classify(opMsg(t, name, int32(1), "$db", "admin")); !r.hello || r.access != read {
			t.Errorf("OP_MSG %s: got %+v", name, r)
		}
		query, err := wire.NewOpQuery(wirebson.MustDocument(name, int32(1)))
		if err != nil {
			t.Fatal(err)
		}
		query.FullCollectionName = "admin.$cmd"
		body, err := query.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if r := classify(frame(t, wire.OpCodeQuery, body)); !r.hello || r.access != exclusive {
			t.Errorf("OP_QUERY %s: got %+v", name, r)
		}
	}
	if r := classify(opMsg(t, "ping", int32(1), "$db", "admin")); r.hello {
		t.Error("ping is no hello")
	}
}

// updateFrame builds an update command with n statements in section 0 and m more in a
// kind-1 document sequence named "updates", as drivers send them.
func updateFrame(t *testing.T, inBody, inSequence int, extra ...any) []byte {
	t.Helper()
	statement := raw(t, "q", wirebson.MustDocument("_id", int32(1)), "u", wirebson.MustDocument("$set", wirebson.MustDocument("a", int32(1))))
	pairs := append([]any{"update", "orders", "$db", "shop"}, extra...)
	if inBody > 0 {
		arr := wirebson.MakeArray(inBody)
		for range inBody {
			if err := arr.Add(statement); err != nil {
				t.Fatal(err)
			}
		}
		pairs = append(pairs, "updates", arr)
	}
	section0, err := wirebson.MustDocument(pairs...).Encode()
	if err != nil {
		t.Fatal(err)
	}
	body := []byte{0, 0, 0, 0, 0} // flags, kind 0
	body = append(body, section0...)
	if inSequence > 0 {
		seq := append([]byte("updates"), 0)
		for range inSequence {
			seq = append(seq, statement...)
		}
		var size [4]byte
		binary.LittleEndian.PutUint32(size[:], uint32(4+len(seq)))
		body = append(append(append(body, 1), size[:]...), seq...)
	}
	return frame(t, wire.OpCodeMsg, body)
}

func TestUpdateStatementsAreCountedAndCosted(t *testing.T) {
	for _, tc := range []struct{ body, seq, want int }{{3, 0, 3}, {0, 120, 120}, {1, 0, 1}, {0, 0, 0}} {
		r := classify(updateFrame(t, tc.body, tc.seq))
		if r.access != write || r.statements != tc.want {
			t.Errorf("%d in body, %d in sequence: got %+v, want %d statements", tc.body, tc.seq, r, tc.want)
		}
	}
	if c := cost(classify(updateFrame(t, 0, 48))); c != 49 {
		t.Errorf("48 statements cost %d, want 49", c)
	}
	for _, small := range [][]byte{updateFrame(t, 1, 0), opMsg(t, "find", "orders", "$db", "shop"), opMsg(t, "delete", "orders", "$db", "shop")} {
		if c := cost(classify(small)); c != 2 {
			t.Errorf("%+v costs %d, want 2", classify(small), c)
		}
	}
}

// scriptedServer answers the n-th frame it gets with the n-th reply.
type scriptedServer struct {
	replies [][]byte
	got     [][]byte
	out     bytes.Buffer
}

func (s *scriptedServer) Write(p []byte) (int, error) {
	s.got = append(s.got, append([]byte(nil), p...))
	s.out.Write(s.replies[len(s.got)-1])
	return len(p), nil
}

func (s *scriptedServer) Read(p []byte) (int, error) { return s.out.Read(p) }

// An update over the cap reaches FerretDB as several of at most maxBatch statements, and
// the client gets one reply: counts summed, indexes shifted to the whole command's.
func TestAnUpdateOverTheCapIsSplitAndItsRepliesMerged(t *testing.T) {
	f := newFront("", 8, 5, &noIndexer{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	replies := [][]byte{
		opMsg(t, "n", int32(5), "nModified", int32(5), "ok", float64(1)),
		opMsg(t, "n", int32(4),
			"upserted", wirebson.MustArray(wirebson.MustDocument("index", int32(2), "_id", "x")),
			"nModified", int32(3),
			"writeErrors", wirebson.MustArray(wirebson.MustDocument("index", int32(1), "code", int32(11000), "errmsg", "dup")),
			"ok", float64(1)),
		opMsg(t, "n", int32(2), "nModified", int32(2), "ok", float64(1)),
	}
	run := func(frame []byte, replies ...[]byte) (*scriptedServer, *wirebson.Document) {
		t.Helper()
		server := &scriptedServer{replies: replies}
		var client bytes.Buffer
		if err := f.handle(context.Background(), classify(frame), frame, rw{&client}, server); err != nil {
			t.Fatal(err)
		}
		header, doc := decodeReply(t, client.Bytes())
		if header.ResponseTo != 7 {
			t.Errorf("reply answers %d, want 7", header.ResponseTo)
		}
		return server, doc
	}

	server, doc := run(updateFrame(t, 0, 12, "ordered", false), replies...)
	var sizes []int
	for _, part := range server.got {
		r := classify(part)
		if r.name != "update" || r.target() != "shop.orders" {
			t.Errorf("part %+v", r)
		}
		sizes = append(sizes, r.statements)
	}
	if !reflect.DeepEqual(sizes, []int{5, 5, 2}) {
		t.Errorf("parts of %v statements, want 5, 5, 2", sizes)
	}
	want := wirebson.MustDocument(
		"n", int32(11),
		"upserted", wirebson.MustArray(wirebson.MustDocument("index", int32(7), "_id", "x")),
		"nModified", int32(10),
		"writeErrors", wirebson.MustArray(wirebson.MustDocument("index", int32(6), "code", int32(11000), "errmsg", "dup")),
		"ok", float64(1),
	)
	assertSameDocument(t, doc, want)

	// ordered: nothing after the part that reported a write error
	server, doc = run(updateFrame(t, 12, 0), replies...)
	if len(server.got) != 2 || doc.Get("n") != int32(9) || doc.Get("nModified") != int32(8) {
		t.Errorf("ordered: %d parts sent, reply %v", len(server.got), doc)
	}

	// a part failing as a whole ends the command with its error
	failed := opMsg(t, "ok", float64(0), "errmsg", "boom", "code", int32(2))
	server, doc = run(updateFrame(t, 0, 12, "ordered", false), failed, replies[0], replies[0])
	if len(server.got) != 1 || doc.Get("ok") != float64(0) || doc.Get("errmsg") != "boom" {
		t.Errorf("failure: %d parts sent, reply %v", len(server.got), doc)
	}

	// at the cap, the frame goes through byte for byte
	atCap := updateFrame(t, 0, 5)
	server, _ = run(atCap, withIDs(append([]byte(nil), replies[0]...), 1, 7))
	if len(server.got) != 1 || !bytes.Equal(server.got[0], atCap) {
		t.Error("an update at the cap was not relayed unchanged")
	}
}

func assertSameDocument(t *testing.T, got, want *wirebson.Document) {
	t.Helper()
	g, err := got.Encode()
	if err != nil {
		t.Fatal(err)
	}
	w, err := want.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// rw adapts a buffer as the client side of handle.
type rw struct{ *bytes.Buffer }

// The budget admits commands by cost: a large update waits for room for all its
// connections, and small commands wait behind it while it runs.
func TestCommandsAreAdmittedByTheirConnectionCost(t *testing.T) {
	f := newFront("", 10, 9, &noIndexer{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ok := opMsg(t, "ok", float64(1))
	answered := make(chan struct{})
	close(answered)
	run := func(frame []byte, answer <-chan struct{}) chan error {
		done := make(chan error, 1)
		go func() {
			done <- f.handle(context.Background(), classify(frame), frame, discard{}, &fakeServer{answer: answer, reply: ok})
		}()
		return done
	}
	waits := func(done chan error, what string) {
		t.Helper()
		select {
		case <-done:
			t.Fatalf("%s did not wait for the budget", what)
		case <-time.After(blocked):
		}
	}
	finishes := func(done chan error, what string) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Second):
			t.Fatalf("%s never finished", what)
		}
	}

	holdFind := make(chan struct{})
	find := run(opMsg(t, "find", "orders", "$db", "shop"), holdFind) // 2 of 10
	time.Sleep(10 * time.Millisecond)
	big := run(updateFrame(t, 0, 9), answered) // 10 of 10: waits for the find
	waits(big, "a 9-statement update beside a find")
	close(holdFind)
	finishes(find, "the find")
	finishes(big, "the 9-statement update")

	holdBig := make(chan struct{})
	big = run(updateFrame(t, 0, 9), holdBig)
	time.Sleep(10 * time.Millisecond)
	small := run(opMsg(t, "find", "orders", "$db", "shop"), answered)
	waits(small, "a find beside a 9-statement update")
	getMore := run(opMsg(t, "getMore", int64(1), "collection", "orders", "$db", "shop"), answered)
	finishes(getMore, "a getMore") // cursors never wait for the budget
	close(holdBig)
	finishes(big, "the 9-statement update")
	finishes(small, "the find")
}
