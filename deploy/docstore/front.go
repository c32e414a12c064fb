package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/FerretDB/wire"
	"golang.org/x/sync/semaphore"
)

// indexer is what the front asks for after a request has been answered (see gin.go).
type indexer interface {
	// afterWrite runs after a successful write, createIndexes or create, under its locks.
	afterWrite(ctx context.Context, r request)
	// forget drops cached knowledge about the collections or database r dropped or renamed.
	forget(r request)
}

// front relays clients to FerretDB.
//
// No pool deadlock: every command relayed to FerretDB first takes cost(r) units of the
// budget (a FIFO weighted semaphore), and gives them back once answered. cost(r) is the
// most PostgreSQL connections FerretDB holds at once for r (batch.go: 2 for a command,
// statements+1 for an update, whose statements are at most maxBatch because larger ones
// are split, each part admitted on its own, or refused). The budget is below FerretDB's pool size (main.go checks budget <
// pool-max-conns and maxBatch+1 <= budget), so the connections all admitted commands can
// want at once always exist: each of them can finish, and its units then admit the next.
// getMore/killCursors take no units, so open cursors always drain; each open cursor holds
// at most one connection, out of the pool-max-conns - budget left over.
type front struct {
	socket   string
	locks    *locks
	budget   *semaphore.Weighted // pool connections the commands at FerretDB may hold
	maxBatch int                 // most statements per update relayed; hello's maxWriteBatchSize
	indexer  indexer
	logger   *slog.Logger
}

func newFront(socket string, budget int64, maxBatch int, ix indexer, logger *slog.Logger) *front {
	return &front{
		socket:   socket,
		locks:    newLocks(),
		budget:   semaphore.NewWeighted(budget),
		maxBatch: maxBatch,
		indexer:  ix,
		logger:   logger,
	}
}

// serve relays one client connection. The wire protocol is request/reply per connection,
// so each request is forwarded and its reply read before the next one is read.
func (f *front) serve(ctx context.Context, client net.Conn) {
	defer client.Close()

	server, err := net.Dial("unix", f.socket)
	if err != nil {
		f.logger.Warn("cannot reach FerretDB", "error", err)
		return
	}
	defer server.Close()

	// Buffered reads: a frame's header and body (usually all of it) come in one read(2)
	// instead of two, on each side.
	in := buffered{bufio.NewReaderSize(client, bufferSize), client}
	out := buffered{bufio.NewReaderSize(server, bufferSize), server}
	for {
		frame, err := readFrame(in)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				f.logger.Debug("client read failed", "error", err)
			}
			return
		}
		if err := f.handle(ctx, classify(frame), frame, in, out); err != nil {
			f.logger.Debug("relay failed", "error", err)
			return
		}
	}
}

func (f *front) handle(ctx context.Context, r request, frame []byte, client, server io.ReadWriter) error {
	release := f.locks.acquire(r)
	defer release()
	if r.statements > f.maxBatch {
		// FerretDB would hang on it (batch.go): a client ignoring hello's cap gets its update
		// split into updates of at most maxBatch statements, under the same locks
		return f.split(ctx, r, frame, client, server)
	}
	if r.access != cursor {
		units := cost(r)
		if err := f.budget.Acquire(ctx, units); err != nil {
			return err
		}
		defer f.budget.Release(units)
	}

	if _, err := server.Write(frame); err != nil {
		return err
	}
	if r.noReply {
		return nil // fire-and-forget: no reply comes
	}
	for {
		reply, err := readFrame(server)
		if err != nil {
			return err
		}
		final := !streams(reply)
		if final && r.hello {
			reply = capWriteBatch(reply, int32(f.maxBatch))
		}
		if final {
			// before the client sees the reply: a createIndexes is answered once its GIN
			// twin exists, and a drop once the cache has forgotten the dropped tables
			switch {
			case r.access == write && replyOK(reply):
				f.indexer.afterWrite(ctx, r)
			case dropCommands[r.name]:
				f.indexer.forget(r)
			}
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if final {
			return nil
		}
	}
}

// bufferSize is the read buffer per side of a relayed connection.
const bufferSize = 16 << 10

// buffered reads through a buffer and writes straight to the connection (every write is a
// whole frame, so nothing is gained by buffering them).
type buffered struct {
	*bufio.Reader
	io.Writer
}

func (b buffered) Read(p []byte) (int, error)  { return b.Reader.Read(p) }
func (b buffered) Write(p []byte) (int, error) { return b.Writer.Write(p) }

// streams is true for an OP_MSG reply with moreToCome (exhaust cursors): more replies follow.
func streams(frame []byte) bool {
	return len(frame) >= 20 &&
		wire.OpCode(binary.LittleEndian.Uint32(frame[12:16])) == wire.OpCodeMsg &&
		wire.OpMsgFlags(binary.LittleEndian.Uint32(frame[16:20])).FlagSet(wire.OpMsgMoreToCome)
}

// readFrame reads one complete wire message (header included), unparsed, so that it can
// be relayed byte for byte.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(size[:]))
	if n < wire.MsgHeaderLen || n > wire.MaxMsgLen {
		return nil, fmt.Errorf("bad message length %d", n)
	}
	frame := make([]byte, n)
	copy(frame, size[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		return nil, err
	}
	return frame, nil
}

// split relays an update of more than maxBatch statements as several, each admitted by its
// own cost, and answers with their merged reply. An ordered update stops after the first
// part that reports write errors, as MongoDB stops at the first failing statement; a part
// that fails as a whole (ok: 0) ends it with that part's reply. A frame it cannot split is
// refused with an error reply.
func (f *front) split(ctx context.Context, r request, frame []byte, client, server io.ReadWriter) error {
	answer := func(reply []byte) error {
		if r.noReply {
			return nil
		}
		_, err := client.Write(reply)
		return err
	}
	parts, sizes, ordered, err := splitUpdate(frame, f.maxBatch)
	if err != nil {
		f.logger.Debug("cannot split an update", "error", err)
		reply, err := tooManyStatements(requestID(frame), r.statements, f.maxBatch)
		if err != nil {
			return err
		}
		return answer(reply)
	}
	merged, offset := newUpdateReplies(), 0
	for i, part := range parts {
		reply, err := f.relayPart(ctx, int64(sizes[i])+1, part, server)
		if err != nil {
			return err
		}
		doc, err := bodyDocument(reply)
		if err != nil {
			return err
		}
		ok, stop, err := merged.add(doc, offset, ordered)
		if err != nil {
			return err
		}
		if !ok {
			binary.LittleEndian.PutUint32(reply[8:12], uint32(requestID(frame)))
			return answer(reply)
		}
		offset += sizes[i]
		if stop {
			break
		}
	}
	f.indexer.afterWrite(ctx, r)
	reply, err := merged.reply(requestID(frame))
	if err != nil {
		return err
	}
	return answer(reply)
}

// relayPart sends one part of a split update to FerretDB and returns its reply.
func (f *front) relayPart(ctx context.Context, units int64, part []byte, server io.ReadWriter) ([]byte, error) {
	if err := f.budget.Acquire(ctx, units); err != nil {
		return nil, err
	}
	defer f.budget.Release(units)
	if _, err := server.Write(part); err != nil {
		return nil, err
	}
	return readFrame(server)
}
