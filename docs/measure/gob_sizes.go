// The sizes, in gob as the course encodes them, behind the Lab 3 snapshot thresholds
// (docs/fault-model.md, difference 23). Run: go run docs/measure/gob_sizes.go
//
// The types are those of a typical course solution: the Raft log entry, an rsm Op
// carrying the rsm tests' Inc request, and a KV Op; the snapshot is a store of one key
// with one client's duplicate-table entry, as at the end of snapshot_size_3b.
package main

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

type LogEntry struct {
	Term    int
	Command interface{}
}

// The rsm tests' counter requests, as the 2025 course's rsm_test.go submits them.
type Inc struct{}

// A typical student rsm Op: who submitted it, a unique id, the request.
type RsmOp struct {
	Me  int
	Id  int64
	Req any
}

// A typical student KV Op (Lab 3, 2022).
type KvOp struct {
	Type     string
	Key      string
	Value    string
	ClientId int64
	SeqNum   int64
}

func raftState(n int, mk func(i int) interface{}) int {
	w := new(bytes.Buffer)
	e := gob.NewEncoder(w)
	log := []LogEntry{{Term: 0}}
	for i := 1; i <= n; i++ {
		log = append(log, LogEntry{Term: 3, Command: mk(i)})
	}
	e.Encode(5)
	e.Encode(1)
	e.Encode(log)
	return w.Len()
}

func main() {
	gob.Register(RsmOp{})
	gob.Register(Inc{})
	gob.Register(KvOp{})
	rsm := func(i int) interface{} { return RsmOp{Me: 1, Id: int64(i) + 1<<40, Req: Inc{}} }
	kvp := func(i int) interface{} {
		return KvOp{Type: "Append", Key: "3", Value: fmt.Sprintf("x 3 %d y", i), ClientId: 5476377146882523136, SeqNum: int64(i)}
	}
	kvx := func(i int) interface{} {
		return KvOp{Type: "Put", Key: "x", Value: "1", ClientId: 5476377146882523136, SeqNum: int64(i)}
	}
	for _, n := range []int{0, 1, 10, 100} {
		fmt.Printf("n=%d rsm=%d kv-append=%d kv-put-x=%d\n", n, raftState(n, rsm), raftState(n, kvp), raftState(n, kvx))
	}
	// snapshot_size_3b's snapshot: one key, one client's duplicate entry.
	w := new(bytes.Buffer)
	e := gob.NewEncoder(w)
	e.Encode(map[string]string{"x": "1"})
	e.Encode(map[int64]int64{5476377146882523136: 800})
	fmt.Printf("kv snapshot one key one client = %d\n", w.Len())
	// the rsm counter's snapshot
	w = new(bytes.Buffer)
	e = gob.NewEncoder(w)
	e.Encode(100)
	fmt.Printf("counter snapshot = %d\n", w.Len())
}
