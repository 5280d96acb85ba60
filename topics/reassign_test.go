package topics

import (
	"reflect"
	"testing"
)

func TestPlaceReplicas(t *testing.T) {
	racked := []broker{{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}}
	tests := []struct {
		name    string
		current map[int32][]int32
		rf      int
		brokers []broker
		load    map[int32]int
		want    map[int32][]int32
	}{
		{
			name:    "increase keeps replicas and spreads new ones over the least loaded brokers",
			current: map[int32][]int32{0: {1}, 1: {2}, 2: {3}},
			rf:      2,
			brokers: threeBrokers(),
			load:    map[int32]int{1: 1, 2: 1, 3: 1},
			want:    map[int32][]int32{0: {1, 2}, 1: {2, 1}, 2: {3, 1}}, // ties go to the lowest id
		},
		{
			name:    "increase prefers a rack the partition does not use",
			current: map[int32][]int32{0: {1}},
			rf:      2,
			brokers: racked,
			load:    map[int32]int{1: 1, 2: 0, 3: 5, 4: 5},
			want:    map[int32][]int32{0: {1, 3}},
		},
		{
			name:    "decrease keeps the preferred leader and drops from the most loaded broker",
			current: map[int32][]int32{0: {1, 2, 3}},
			rf:      2,
			brokers: threeBrokers(),
			load:    map[int32]int{1: 9, 2: 5, 3: 1},
			want:    map[int32][]int32{0: {1, 3}},
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := placeReplicas(tt.current, tt.rf, tt.brokers, tt.load)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("placeReplicas = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlaceReplicasIsEven(t *testing.T) {
	current := map[int32][]int32{}
	for p := int32(0); p < 12; p++ {
		current[p] = []int32{p%3 + 1}
	}
	load := map[int32]int{1: 4, 2: 4, 3: 4}
	placeReplicas(current, 3, threeBrokers(), load)
	if load[1] != 12 || load[2] != 12 || load[3] != 12 {
		t.Fatalf("load after rf 3 = %v, want 12 each", load)
	}
	current = map[int32][]int32{}
	for p := int32(0); p < 12; p++ {
		current[p] = []int32{p%3 + 1}
	}
	load = map[int32]int{1: 4, 2: 4, 3: 4}
	placeReplicas(current, 2, threeBrokers(), load)
	if load[1] != 8 || load[2] != 8 || load[3] != 8 {
		t.Fatalf("load after rf 2 = %v, want 8 each", load)
	}
}
