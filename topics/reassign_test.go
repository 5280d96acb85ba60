package topics

import (
	"reflect"
	"testing"
)

// Every case is built so that a wrong choice changes the result: loads
// differ where load decides, ties exist only where the tie-break is what
// is tested, and racks disagree with load where racks must win.
func TestPlaceReplicas(t *testing.T) {
	racked := []broker{{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}}
	threeRacks := []broker{{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}, {5, "c"}}
	fourBrokers := []broker{{id: 1}, {id: 2}, {id: 3}, {id: 4}}
	tests := []struct {
		name    string
		current map[int32][]int32
		rf      int
		brokers []broker
		load    map[int32]int
		want    map[int32][]int32
		// wantLoad is the load after placing, when it is worth checking.
		wantLoad map[int32]int
	}{
		{
			name:     "increase adds the least loaded broker, not the lowest id",
			current:  map[int32][]int32{0: {1}},
			rf:       2,
			brokers:  threeBrokers(),
			load:     map[int32]int{1: 1, 2: 5, 3: 0},
			want:     map[int32][]int32{0: {1, 3}},
			wantLoad: map[int32]int{1: 1, 2: 5, 3: 1},
		},
		{
			name:    "increase to three takes the least loaded in order",
			current: map[int32][]int32{0: {2}},
			rf:      3,
			brokers: fourBrokers,
			load:    map[int32]int{1: 7, 2: 1, 3: 4, 4: 2},
			want:    map[int32][]int32{0: {2, 4, 3}},
		},
		{
			name:    "a tie on load goes to the lowest id",
			current: map[int32][]int32{0: {3}},
			rf:      2,
			brokers: fourBrokers,
			load:    map[int32]int{1: 2, 2: 2, 3: 0, 4: 2},
			want:    map[int32][]int32{0: {3, 1}},
		},
		{
			name:     "each placement counts towards the next, spreading a topic",
			current:  map[int32][]int32{0: {1}, 1: {1}, 2: {1}, 3: {1}},
			rf:       2,
			brokers:  threeBrokers(),
			load:     map[int32]int{1: 4, 2: 0, 3: 0},
			want:     map[int32][]int32{0: {1, 2}, 1: {1, 3}, 2: {1, 2}, 3: {1, 3}},
			wantLoad: map[int32]int{1: 4, 2: 2, 3: 2},
		},
		{
			name:    "increase prefers a rack the partition does not use over a less loaded broker",
			current: map[int32][]int32{0: {1}},
			rf:      2,
			brokers: racked,
			load:    map[int32]int{1: 1, 2: 0, 3: 5, 4: 2},
			want:    map[int32][]int32{0: {1, 4}},
		},
		{
			name:    "every new replica goes to a rack not used yet",
			current: map[int32][]int32{0: {1}},
			rf:      3,
			brokers: threeRacks,
			load:    map[int32]int{1: 0, 2: 0, 3: 0, 4: 0, 5: 9},
			want:    map[int32][]int32{0: {1, 3, 5}},
		},
		{
			name:    "with every rack used, load decides again",
			current: map[int32][]int32{0: {1, 3}},
			rf:      3,
			brokers: racked,
			load:    map[int32]int{1: 0, 2: 6, 3: 0, 4: 1},
			want:    map[int32][]int32{0: {1, 3, 4}},
		},
		{
			name:     "decrease keeps the preferred leader and drops from the most loaded broker",
			current:  map[int32][]int32{0: {1, 2, 3}},
			rf:       2,
			brokers:  threeBrokers(),
			load:     map[int32]int{1: 9, 2: 5, 3: 1},
			want:     map[int32][]int32{0: {1, 3}},
			wantLoad: map[int32]int{1: 9, 2: 4, 3: 1},
		},
		{
			name:    "decrease to one keeps only the preferred leader",
			current: map[int32][]int32{0: {3, 1, 2}},
			rf:      1,
			brokers: threeBrokers(),
			load:    map[int32]int{1: 1, 2: 1, 3: 9},
			want:    map[int32][]int32{0: {3}},
		},
		{
			name:     "each drop counts towards the next",
			current:  map[int32][]int32{0: {1, 2, 3}, 1: {1, 2, 3}},
			rf:       2,
			brokers:  threeBrokers(),
			load:     map[int32]int{1: 2, 2: 2, 3: 2},
			want:     map[int32][]int32{0: {1, 3}, 1: {1, 2}},
			wantLoad: map[int32]int{1: 2, 2: 1, 3: 1},
		},
		{
			name:    "decrease drops a replica on a duplicate rack first",
			current: map[int32][]int32{0: {1, 3, 2}},
			rf:      2,
			brokers: racked,
			load:    map[int32]int{1: 0, 2: 0, 3: 9},
			want:    map[int32][]int32{0: {1, 3}},
		},
		{
			name:    "a replica on a broker that is gone goes first",
			current: map[int32][]int32{0: {1, 7, 2}},
			rf:      2,
			brokers: threeBrokers(),
			load:    map[int32]int{1: 0, 2: 9, 3: 0},
			want:    map[int32][]int32{0: {1, 2}},
		},
		{
			name:    "even the preferred leader goes when its broker is gone",
			current: map[int32][]int32{0: {7, 1, 2}},
			rf:      2,
			brokers: threeBrokers(),
			load:    map[int32]int{1: 0, 2: 9, 3: 0},
			want:    map[int32][]int32{0: {1, 2}},
		},
		{
			name:    "an unchanged factor moves nothing",
			current: map[int32][]int32{0: {2, 1}, 1: {1, 2}},
			rf:      2,
			brokers: threeBrokers(),
			load:    map[int32]int{1: 2, 2: 2, 3: 0},
			want:    map[int32][]int32{0: {2, 1}, 1: {1, 2}},
		},
		{
			name:    "fewer live brokers than the factor places what it can",
			current: map[int32][]int32{0: {1}},
			rf:      4,
			brokers: threeBrokers(),
			load:    map[int32]int{1: 0, 2: 0, 3: 0},
			want:    map[int32][]int32{0: {1, 2, 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current := clone(tt.current)
			got := placeReplicas(tt.current, tt.rf, tt.brokers, tt.load)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("placeReplicas = %v, want %v", got, tt.want)
			}
			if tt.wantLoad != nil && !reflect.DeepEqual(tt.load, tt.wantLoad) {
				t.Errorf("load after placing = %v, want %v", tt.load, tt.wantLoad)
			}
			if !reflect.DeepEqual(tt.current, current) {
				t.Errorf("placeReplicas changed its input: %v, was %v", tt.current, current)
			}
		})
	}
}

// TestPlaceReplicasIsEven checks whole topics: starting from uneven brokers,
// new replicas fill the emptiest ones first until all are level.
func TestPlaceReplicasIsEven(t *testing.T) {
	fourBrokers := []broker{{id: 1}, {id: 2}, {id: 3}, {id: 4}}
	tests := []struct {
		name     string
		leaders  func(p int32) int32
		rf       int
		load     map[int32]int
		wantLoad map[int32]int
	}{
		{
			name:     "a topic on one broker spreads over the other three",
			leaders:  func(int32) int32 { return 1 },
			rf:       2,
			load:     map[int32]int{1: 12, 2: 0, 3: 0, 4: 0},
			wantLoad: map[int32]int{1: 12, 2: 4, 3: 4, 4: 4},
		},
		{
			name:     "the emptiest brokers are filled first",
			leaders:  func(p int32) int32 { return p%2 + 1 },
			rf:       2,
			load:     map[int32]int{1: 6, 2: 12, 3: 0, 4: 0},
			wantLoad: map[int32]int{1: 6, 2: 12, 3: 6, 4: 6},
		},
		{
			name:     "a factor of three spreads both new replicas",
			leaders:  func(int32) int32 { return 1 },
			rf:       3,
			load:     map[int32]int{1: 12, 2: 0, 3: 0, 4: 0},
			wantLoad: map[int32]int{1: 12, 2: 8, 3: 8, 4: 8},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current := map[int32][]int32{}
			for p := int32(0); p < 12; p++ {
				current[p] = []int32{tt.leaders(p)}
			}
			got := placeReplicas(current, tt.rf, fourBrokers, tt.load)
			if !reflect.DeepEqual(tt.load, tt.wantLoad) {
				t.Errorf("load = %v, want %v\nplacement %v", tt.load, tt.wantLoad, got)
			}
			for p, rs := range got {
				if len(rs) != tt.rf || rs[0] != tt.leaders(p) || hasDuplicate(rs) {
					t.Errorf("partition %d: replicas %v, want %d distinct led by %d", p, rs, tt.rf, tt.leaders(p))
				}
			}
		})
	}
}

func clone(m map[int32][]int32) map[int32][]int32 {
	out := make(map[int32][]int32, len(m))
	for k, v := range m {
		out[k] = append([]int32(nil), v...)
	}
	return out
}

func hasDuplicate(rs []int32) bool {
	seen := map[int32]bool{}
	for _, r := range rs {
		if seen[r] {
			return true
		}
		seen[r] = true
	}
	return false
}
