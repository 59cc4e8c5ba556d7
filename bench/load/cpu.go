package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// serverCPU returns the CPU seconds process pid has used in user and in
// system (kernel) mode, from /proc/PID/stat (fields 14 and 15, see
// proc(5)); 0 if pid is 0.
func serverCPU(pid int) (user, sys float64, err error) {
	if pid == 0 {
		return 0, 0, nil
	}
	return ProcessCPUTimes(pid)
}

// ProcessCPU returns the user+system CPU seconds process pid has used.
func ProcessCPU(pid int) (float64, error) {
	user, sys, err := ProcessCPUTimes(pid)
	return user + sys, err
}

// ProcessCPUTimes returns the CPU seconds process pid has used in user and
// in system mode.
func ProcessCPUTimes(pid int) (user, sys float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces; fields after it start
	// after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("load: malformed /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state), so utime (14) is f[11], stime (15) f[12].
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("load: short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	s, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("load: malformed /proc/%d/stat", pid)
	}
	return float64(u) / clockTicks, float64(s) / clockTicks, nil
}

// ProcessRSS returns the resident set size of process pid in bytes, from
// VmRSS in /proc/PID/status.
func ProcessRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v)
			if len(f) != 2 || string(f[1]) != "kB" {
				break
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				break
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("load: no VmRSS in /proc/%d/status", pid)
}
