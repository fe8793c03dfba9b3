package main

import "testing"

func TestBusiestCore(t *testing.T) {
	for _, tt := range []struct{ data, want string }{
		{`{"cores":[4,4,90],"core_ids":[0,1,3]}`, "busiest=cpu3:90%"}, // cpu2 offline
		{`{"cores":[4,null,7]}`, "busiest=cpu2:7%"},                   // an older server: positions
		{`{"cores":[]}`, "busiest=none"},
	} {
		if got := busiestCore(tt.data); got != tt.want {
			t.Errorf("busiestCore(%s) = %s, want %s", tt.data, got, tt.want)
		}
	}
}
