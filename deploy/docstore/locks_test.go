package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const blocked = 50 * time.Millisecond // long enough to be sure something waits

// acquired reports whether acquire(r) returns within d, and releases it if so (else later).
func acquiredWithin(l *locks, r request, d time.Duration) bool {
	got := make(chan func(), 1)
	go func() { got <- l.acquire(r) }()
	select {
	case release := <-got:
		release()
		return true
	case <-time.After(d):
		go func() { (<-got)() }()
		return false
	}
}

var (
	writeA = request{access: write, db: "shop", collection: "a"}
	writeB = request{access: write, db: "shop", collection: "b"}
	excl   = request{access: exclusive}
	reader = request{access: read, name: "find"}
)

func TestWritesToOneCollectionRunOneAtATime(t *testing.T) {
	l := newLocks()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release := l.acquire(writeA)
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			release()
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d writes to one collection ran at once", most.Load())
	}
}

func TestWritesToOtherCollectionsAndReadsDoNotWait(t *testing.T) {
	l := newLocks()
	release := l.acquire(writeA)
	defer release()
	if !acquiredWithin(l, writeB, time.Second) {
		t.Error("a write to another collection waited")
	}
	if !acquiredWithin(l, reader, time.Second) {
		t.Error("a read waited for a write")
	}
	if acquiredWithin(l, writeA, blocked) {
		t.Error("a second write to the same collection did not wait")
	}
}

func TestExclusiveWaitsForWritesInFlightAndKeepsNewOnesOut(t *testing.T) {
	l := newLocks()
	releaseWrite := l.acquire(writeA)
	if acquiredWithin(l, excl, blocked) {
		t.Fatal("an exclusive request ran beside a write in flight")
	}
	releaseWrite()
	time.Sleep(10 * time.Millisecond) // let the waiting exclusive request take and drop its lock

	releaseExcl := l.acquire(excl)
	if acquiredWithin(l, writeB, blocked) {
		t.Error("a write ran beside an exclusive request")
	}
	if !acquiredWithin(l, reader, time.Second) {
		t.Error("a read waited for an exclusive request")
	}
	releaseExcl()
	if !acquiredWithin(l, writeB, time.Second) {
		t.Error("a write still waits after the exclusive request ended")
	}
}

// fakeServer answers every frame with reply once answer is closed, recording what it got.
type fakeServer struct {
	answer <-chan struct{}
	reply  []byte
	mu     sync.Mutex
	got    [][]byte
	out    []byte
}

func (s *fakeServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.got = append(s.got, append([]byte(nil), p...))
	s.mu.Unlock()
	<-s.answer
	s.mu.Lock()
	s.out = append(s.out, s.reply...)
	s.mu.Unlock()
	return len(p), nil
}

func (s *fakeServer) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.out) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

type discard struct{}

func (discard) Read([]byte) (int, error)    { return 0, io.EOF }
func (discard) Write(p []byte) (int, error) { return len(p), nil }

type noIndexer struct{ writes atomic.Int32 }

func (n *noIndexer) afterWrite(context.Context, request) { n.writes.Add(1) }
func (*noIndexer) forget(request)                        {}

// A legacy OP_QUERY hello (which the old front let through without any lock) now holds
// every write back until it has been answered.
func TestTheFrontHoldsWritesBackWhileAnOpQueryIsAtTheServer(t *testing.T) {
	ix := &noIndexer{}
	f := newFront("", 8, 48, ix, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ok := opMsg(t, "ok", float64(1))

	answerHello := make(chan struct{})
	hello := []byte("\x13\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xd4\x07\x00\x00xyz") // OP_QUERY, unparseable
	helloDone := make(chan error, 1)
	go func() {
		helloDone <- f.handle(context.Background(), classify(hello), hello, discard{}, &fakeServer{answer: answerHello, reply: ok})
	}()
	time.Sleep(10 * time.Millisecond)

	answered := make(chan struct{})
	close(answered)
	insert := opMsg(t, "insert", "orders", "$db", "shop")
	writeDone := make(chan error, 1)
	go func() {
		writeDone <- f.handle(context.Background(), classify(insert), insert, discard{}, &fakeServer{answer: answered, reply: ok})
	}()
	select {
	case <-writeDone:
		t.Fatal("a write went to the server while an OP_QUERY was unanswered")
	case <-time.After(blocked):
	}
	close(answerHello)
	for _, done := range []chan error{helloDone, writeDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Second):
			t.Fatal("a request never finished")
		}
	}
	if ix.writes.Load() != 1 {
		t.Fatalf("afterWrite ran %d times, want once (for the successful insert)", ix.writes.Load())
	}
}

// The in-flight bound: with it full, a further command waits; a getMore does not.
func TestInFlightCommandsAreBoundedButCursorsDrain(t *testing.T) {
	f := newFront("", 2, 48, &noIndexer{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ok := opMsg(t, "ok", float64(1))
	hold := make(chan struct{})
	find := opMsg(t, "find", "orders", "$db", "shop")
	go func() {
		_ = f.handle(context.Background(), classify(find), find, discard{}, &fakeServer{answer: hold, reply: ok})
	}()
	time.Sleep(10 * time.Millisecond)

	answered := make(chan struct{})
	close(answered)
	run := func(frame []byte) chan error {
		done := make(chan error, 1)
		go func() {
			done <- f.handle(context.Background(), classify(frame), frame, discard{}, &fakeServer{answer: answered, reply: ok})
		}()
		return done
	}
	second := run(find)
	getMore := run(opMsg(t, "getMore", int64(1), "collection", "orders", "$db", "shop"))
	select {
	case err := <-getMore:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("getMore waited for the in-flight bound")
	}
	select {
	case <-second:
		t.Fatal("a second command passed a full in-flight bound")
	case <-time.After(blocked):
	}
	close(hold)
	select {
	case <-second:
	case <-time.After(time.Second):
		t.Fatal("the second command never ran")
	}
}
