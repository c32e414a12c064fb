package main

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
)

// frame builds a complete wire message (header included) around a message body.
func frame(t *testing.T, op wire.OpCode, body []byte) []byte {
	t.Helper()
	header := wire.MsgHeader{MessageLength: int32(wire.MsgHeaderLen + len(body)), RequestID: 7, OpCode: op}
	b, err := header.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return append(b, body...)
}

func opMsg(t *testing.T, pairs ...any) []byte {
	t.Helper()
	body, err := wire.MustOpMsg(pairs...).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return frame(t, wire.OpCodeMsg, body)
}

func raw(t *testing.T, pairs ...any) wirebson.RawDocument {
	t.Helper()
	b, err := wirebson.MustDocument(pairs...).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteCommandsAreSerialisedPerCollection(t *testing.T) {
	for _, name := range []string{"insert", "update", "delete", "findAndModify", "findandmodify", "create", "dropIndexes"} {
		r := classify(opMsg(t, name, "orders", "$db", "shop"))
		if r.access != write || r.target() != "shop.orders" || r.name != name {
			t.Errorf("%s: got %+v, want a write to shop.orders", name, r)
		}
	}
}

func TestInsertWithADocumentSequenceIsAWrite(t *testing.T) {
	// PyMongo sends insert_many as OP_MSG with the documents in a kind-1 section.
	var body bytes.Buffer
	body.Write([]byte{0, 0, 0, 0}) // flags
	body.WriteByte(0)
	body.Write(raw(t, "insert", "orders", "ordered", true, "$db", "shop"))
	doc := raw(t, "_id", "o1")
	var section bytes.Buffer
	section.WriteString("documents\x00")
	section.Write(doc)
	body.WriteByte(1)
	_ = binary.Write(&body, binary.LittleEndian, int32(4+section.Len()))
	body.Write(section.Bytes())

	r := classify(frame(t, wire.OpCodeMsg, body.Bytes()))
	if r.access != write || r.target() != "shop.orders" {
		t.Fatalf("got %+v", r)
	}
}

func TestReadsTakeNoLockAndCursorsBypassTheBound(t *testing.T) {
	for _, name := range []string{"find", "count", "hello", "isMaster", "ping", "listCollections", "endSessions"} {
		if r := classify(opMsg(t, name, int32(1), "$db", "shop")); r.access != read {
			t.Errorf("%s: got %v, want read", name, r.access)
		}
	}
	if r := classify(opMsg(t, "getMore", int64(42), "collection", "orders", "$db", "shop")); r.access != cursor {
		t.Errorf("getMore: got %v, want cursor", r.access)
	}
}

func TestAggregationsAreReadsUnlessTheyWrite(t *testing.T) {
	match := wirebson.MustArray(wirebson.MustDocument("$match", wirebson.MustDocument("a", int32(1))))
	if r := classify(opMsg(t, "aggregate", "orders", "pipeline", match, "$db", "shop")); r.access != read {
		t.Errorf("$match pipeline: got %v, want read", r.access)
	}
	for _, stage := range []string{"$out", "$merge"} {
		pipeline := wirebson.MustArray(
			wirebson.MustDocument("$match", wirebson.MustDocument()),
			wirebson.MustDocument(stage, "copy"),
		)
		if r := classify(opMsg(t, "aggregate", "orders", "pipeline", pipeline, "$db", "shop")); r.access != exclusive {
			t.Errorf("%s pipeline: got %v, want exclusive", stage, r.access)
		}
	}
}

func TestCreateIndexesCarriesItsPlainKeys(t *testing.T) {
	indexes := wirebson.MustArray(
		wirebson.MustDocument("key", wirebson.MustDocument("owner", int32(1)), "name", "owner_1"),
		wirebson.MustDocument("key", wirebson.MustDocument("a.b", int32(1), "c", float64(-1)), "name", "ab_c"),
		wirebson.MustDocument("key", wirebson.MustDocument("title", "text"), "name", "title_text"),
	)
	r := classify(opMsg(t, "createIndexes", "orders", "indexes", indexes, "$db", "shop"))
	if r.access != write || r.target() != "shop.orders" {
		t.Fatalf("got %+v", r)
	}
	if want := [][]string{{"owner"}, {"a.b", "c"}}; !reflect.DeepEqual(r.indexes, want) {
		t.Fatalf("indexes %v, want %v", r.indexes, want)
	}
}

func TestDropsAreExclusive(t *testing.T) {
	if r := classify(opMsg(t, "drop", "orders", "$db", "shop")); r.access != exclusive || r.target() != "shop.orders" {
		t.Errorf("drop: got %+v", r)
	}
	if r := classify(opMsg(t, "dropDatabase", int32(1), "$db", "shop")); r.access != exclusive || r.db != "shop" {
		t.Errorf("dropDatabase: got %+v", r)
	}
	r := classify(opMsg(t, "renameCollection", "shop.a", "to", "shop.b", "$db", "admin"))
	if r.access != exclusive || !reflect.DeepEqual(r.renamed, []string{"shop.a", "shop.b"}) {
		t.Errorf("renameCollection: got %+v", r)
	}
}

func TestWhatCannotBeClassifiedIsExclusive(t *testing.T) {
	valid := opMsg(t, "insert", "orders", "$db", "shop")
	query, err := wire.NewOpQuery(wirebson.MustDocument("hello", int32(1)))
	if err != nil {
		t.Fatal(err)
	}
	query.FullCollectionName = "admin.$cmd"
	queryBody, err := query.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	badBSON := append([]byte(nil), valid...)
	badBSON[len(badBSON)-1] = 7 // the body document no longer ends with its 0 byte
	wrongLength := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint32(wrongLength, uint32(len(valid)+3))

	cases := map[string][]byte{
		"OP_QUERY hello":        frame(t, wire.OpCodeQuery, queryBody),
		"OP_COMPRESSED":         frame(t, wire.OpCodeCompressed, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}),
		"unknown command":       opMsg(t, "someFutureCommand", "orders", "$db", "shop"),
		"insert without $db":    opMsg(t, "insert", "orders"),
		"insert of no name":     opMsg(t, "insert", int32(1), "$db", "shop"),
		"header only":           frame(t, wire.OpCodeMsg, nil),
		"truncated":             valid[:len(valid)-4],
		"length field is wrong": wrongLength,
		"malformed BSON":        badBSON,
		"garbage":               []byte("definitely not a wire message at all"),
		"empty":                 nil,
	}
	for name, f := range cases {
		if r := classify(f); r.access != exclusive {
			t.Errorf("%s: got %v, want exclusive", name, r.access)
		}
	}
}

func TestFireAndForgetIsNoticed(t *testing.T) {
	msg := wire.MustOpMsg("insert", "orders", "$db", "shop")
	msg.Flags = wire.OpMsgFlags(wire.OpMsgMoreToCome)
	body, err := msg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if r := classify(frame(t, wire.OpCodeMsg, body)); !r.noReply || r.access != write {
		t.Fatalf("got %+v", r)
	}
}

func TestReplyOK(t *testing.T) {
	if !replyOK(opMsg(t, "n", int32(1), "ok", float64(1))) {
		t.Error("ok: 1.0 is a success")
	}
	if replyOK(opMsg(t, "ok", float64(0), "errmsg", "no", "code", int32(2))) {
		t.Error("ok: 0 is a failure")
	}
	if replyOK([]byte("garbage")) {
		t.Error("garbage is no success")
	}
}
