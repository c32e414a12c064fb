package main

import "sync"

// locks is the front's lock discipline:
//
//   - a write takes the shared side of all, then its collection's mutex: writes to
//     different collections run together, writes to one collection one at a time (a
//     document lives in one collection, so this is all single-document atomicity needs);
//   - an exclusive request takes the exclusive side of all: it waits for every write in
//     flight and no write starts until it is answered;
//   - reads and cursor continuations take nothing.
//
// A request holds its locks from before it is forwarded until its reply has been read
// (and, for writes, until the front's GIN twin work is done), never across requests, so
// no two requests can wait on each other.
type locks struct {
	all          sync.RWMutex
	mu           sync.Mutex
	byCollection map[string]*sync.Mutex
}

func newLocks() *locks {
	return &locks{byCollection: map[string]*sync.Mutex{}}
}

func (l *locks) collection(target string) *sync.Mutex {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.byCollection[target]
	if !ok {
		m = &sync.Mutex{}
		l.byCollection[target] = m
	}
	return m
}

// acquire takes what r needs and returns the function that releases it.
func (l *locks) acquire(r request) func() {
	switch r.access {
	case write:
		l.all.RLock()
		m := l.collection(r.target())
		m.Lock()
		return func() {
			m.Unlock()
			l.all.RUnlock()
		}
	case read, cursor:
		return func() {}
	default:
		l.all.Lock()
		return l.all.Unlock
	}
}
