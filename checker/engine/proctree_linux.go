package engine

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The grader process becomes a child subreaper the first time it runs
// learner code: a learner process that double-forks or calls setsid to
// leave its process group is then re-parented to us, not to init, so it
// can still be found, counted and killed.
var subreaperOnce sync.Once

func becomeSubreaper() {
	subreaperOnce.Do(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
}

// procEntry is one line of /proc/<pid>/stat that matters here.
type procEntry struct {
	ppid  int
	start uint64 // start time in clock ticks: with pid, identifies a process
}

// listProcs reads every process's parent and start time from /proc.
func listProcs() map[int]procEntry {
	out := map[int]procEntry{}
	d, err := os.Open("/proc")
	if err != nil {
		return out
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + n + "/stat")
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces or ')'.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 20 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		start, _ := strconv.ParseUint(f[19], 10, 64)
		out[pid] = procEntry{ppid: ppid, start: start}
	}
	return out
}

// procTree follows every process a learner run starts: the descendants of
// its root, including ones that changed session or process group, and
// orphans re-parented to this (subreaper) process while the run was live.
// It is what the memory limit counts and what a run's end kills.
type procTree struct {
	root    int
	self    int
	mu      sync.Mutex
	members map[int]uint64 // pid → start time
}

// An orphan that appears as our child while runs are live belongs to
// learner code (nothing else in the grader leaves orphans), so each live
// tree adopts it.
var (
	liveMu sync.Mutex
	// ownChildren are the processes this grader started itself (learner
	// roots); a child of ours that is not one of them is an adopted orphan.
	ownChildren = map[int]bool{}
)

// startOwn starts cmd and records it as a child of the grader's own, in
// one step under liveMu: a tree refreshing at the same moment either ran
// before the process existed or sees it recorded, so it never mistakes the
// new process for an orphan to adopt (and kill).
func startOwn(cmd *exec.Cmd) error {
	liveMu.Lock()
	defer liveMu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	ownChildren[cmd.Process.Pid] = true
	return nil
}

// forgetOwn drops a child started with startOwn once it has been waited for.
func forgetOwn(pid int) {
	liveMu.Lock()
	delete(ownChildren, pid)
	liveMu.Unlock()
}

// newProcTree starts following the processes of the learner run whose
// root process (started with startOwn) is root.
func newProcTree(root int) *procTree {
	t := &procTree{root: root, self: os.Getpid(), members: map[int]uint64{}}
	t.refresh()
	return t
}

// refresh adds processes that joined the tree since the last call and
// forgets ones that ended; it returns the live members.
func (t *procTree) refresh() []int {
	procs := listProcs()
	liveMu.Lock()
	own := make(map[int]bool, len(ownChildren))
	for p := range ownChildren {
		own[p] = true
	}
	liveMu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	for pid, start := range t.members {
		if e, ok := procs[pid]; !ok || e.start != start {
			delete(t.members, pid)
		}
	}
	if e, ok := procs[t.root]; ok {
		t.members[t.root] = e.start
	}
	for changed := true; changed; {
		changed = false
		for pid, e := range procs {
			if _, in := t.members[pid]; in {
				continue
			}
			_, parentIn := t.members[e.ppid]
			adopted := e.ppid == t.self && !own[pid]
			if parentIn || adopted {
				t.members[pid] = e.start
				changed = true
			}
		}
	}
	out := make([]int, 0, len(t.members))
	for pid := range t.members {
		out = append(out, pid)
	}
	return out
}

// residentTotal is the resident memory of every live member, summed.
func (t *procTree) residentTotal() int64 {
	var total int64
	for _, pid := range t.refresh() {
		total += statusField(pid, "VmRSS:")
	}
	return total
}

// killAll SIGKILLs the tree until nothing of it is left (a process may
// fork while it is being killed), then reaps adopted orphans, which the
// Go runtime does not wait for.
func (t *procTree) killAll() {
	for range 20 {
		members := t.refresh()
		alive := 0
		for _, pid := range members {
			if pid == t.self {
				continue
			}
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				alive++
			}
		}
		t.reapAdopted(members)
		if alive == 0 {
			break
		}
	}
}

func (t *procTree) reapAdopted(members []int) {
	liveMu.Lock()
	defer liveMu.Unlock()
	for _, pid := range members {
		if pid == t.root || ownChildren[pid] {
			continue
		}
		var ws syscall.WaitStatus
		// WNOHANG: only a child of ours that has exited is reaped; a
		// member that is someone else's child returns ECHILD at once.
		_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

// statusField reads a "kB" field of /proc/<pid>/status in bytes; 0 when unavailable.
func statusField(pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				kb, _ := strconv.ParseInt(fields[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
