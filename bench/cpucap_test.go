package bench

import "testing"

func TestCgroupPath(t *testing.T) {
	v1 := "12:cpuset:/\n4:memory:/api/8c78\n2:cpu,cpuacct:/user.slice\n1:name=systemd:/init.scope\n0::/\n"
	v2 := "0::/user.slice/session-1.scope\n"
	for _, c := range []struct {
		text string
		v2   bool
		want string
		ok   bool
	}{
		{v1, false, "/user.slice", true},
		{"1:cpu:/\n", false, "/", true},
		{v1, true, "/", true},
		{v2, true, "/user.slice/session-1.scope", true},
		{v2, false, "", false},
		{"4:cpuacct:/x\n", false, "", false}, // cpuacct is not cpu
	} {
		got, ok := cgroupPath(c.text, c.v2)
		if got != c.want || ok != c.ok {
			t.Errorf("cgroupPath(%q, v2=%v) = %q, %v; want %q, %v", c.text, c.v2, got, ok, c.want, c.ok)
		}
	}
}
