package topics

import "testing"

func TestObservedReplicationFactor(t *testing.T) {
	tests := []struct {
		name        string
		replicas    map[int32][]int32
		reassigning map[int32]reassignment
		wantRF      int
		uniform     map[int]bool
	}{
		{
			name:     "every partition alike",
			replicas: map[int32][]int32{0: {1, 2}, 1: {2, 3}},
			wantRF:   2,
			uniform:  map[int]bool{1: false, 2: true, 3: false},
		},
		{
			name:     "the factor is the largest partition's, and uneven is not uniform",
			replicas: map[int32][]int32{0: {1}, 1: {2, 3, 1}, 2: {3, 1}},
			wantRF:   3,
			uniform:  map[int]bool{1: false, 2: false, 3: false},
		},
		{
			name:        "growing: the replicas being added count",
			replicas:    map[int32][]int32{0: {1, 2, 3}},
			reassigning: map[int32]reassignment{0: {replicas: []int32{1, 2, 3}, adding: []int32{3}}},
			wantRF:      3,
			uniform:     map[int]bool{2: false, 3: true},
		},
		{
			name:        "shrinking: the replicas being removed do not count",
			replicas:    map[int32][]int32{0: {1, 2, 3}, 1: {2}},
			reassigning: map[int32]reassignment{0: {replicas: []int32{1, 2, 3}, removing: []int32{2, 3}}},
			wantRF:      1,
			uniform:     map[int]bool{1: true, 3: false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ot := &observedTopic{replicas: tt.replicas, reassigning: tt.reassigning}
			if got := ot.replicationFactor(); got != tt.wantRF {
				t.Errorf("replicationFactor = %d, want %d", got, tt.wantRF)
			}
			for rf, want := range tt.uniform {
				if got := ot.uniformRF(rf); got != want {
					t.Errorf("uniformRF(%d) = %v, want %v", rf, got, want)
				}
			}
		})
	}
}
