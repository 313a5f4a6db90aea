package services

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/endpoints"
	"github.com/delab-dev/delab/checker/hdfsclient"
)

//go:embed hdfs-start.sh
var hdfsStartScript string

// HDFSNameNodeURI is the file system URI for containers on the stack's network.
const HDFSNameNodeURI = endpoints.HDFSNameNodeURI

// hdfsDefinition is HDFS's entry in the service table.
var hdfsDefinition = Definition{
	Name:         catalog.HDFS,
	Title:        "HDFS",
	DefaultImage: DefaultHDFSImage,
	ImageEnv:     hdfsImageEnv,
	ImageFlag:    "hdfs-image",
	start: func(ctx context.Context, st *Stack, opts []Option) (service, error) {
		h, err := HDFS(ctx, opts...)
		st.keep(func() { st.HDFS = h })
		return h, err
	},
	stopNode: func(ctx context.Context, s service, i int) error {
		return s.(*HDFSContainer).StopDataNode(ctx, i)
	},
	startNode: func(ctx context.Context, s service, i int) error {
		return s.(*HDFSContainer).StartDataNode(ctx, i, 2*time.Minute)
	},
	health: func(ctx context.Context, s service) error {
		return s.(*HDFSContainer).health(ctx)
	},
	summary: func(e Endpoints) string {
		var dn []string
		for p, a := range e.HDFSDataNodes {
			dn = append(dn, fmt.Sprintf("%d→%s", p, a))
		}
		sort.Strings(dn)
		return fmt.Sprintf("namenode %s (from containers: %s), web UI %s, datanodes %s", e.HDFSNameNode, HDFSNameNodeURI, e.HDFSWebUI, strings.Join(dn, " "))
	},
}

const hdfsImageEnv = "DELAB_HDFS_IMAGE"

// HDFSContainer is a running NameNode with one or more DataNodes.
type HDFSContainer struct {
	*testcontainers.DockerContainer
	// NameNode is the NameNode RPC address reachable from the host.
	NameNode string
	// WebUI is the NameNode web UI, reachable from the host.
	WebUI string
	// DataNodes maps each DataNode's transfer port inside the container to
	// its address on the host: the NameNode hands out container addresses,
	// which the host cannot always reach.
	DataNodes map[int]string
	// Image is the image it runs.
	Image string

	// mu guards stopped, the DataNodes the checker keeps down.
	mu      sync.Mutex
	stopped map[int]bool
}

// dataNodePort is the transfer port of DataNode i (0-based); its IPC and
// HTTP ports follow the same stride of ten (see hdfs-start.sh).
func dataNodePort(i int) int { return 9866 + 10*i }

// HDFS starts a NameNode and WithDataNodes DataNodes (default one) in one
// container under the alias "hdfs", with permissions off, safe mode
// extension off and the web UI exposed. Its container is returned even on
// error, so the caller can clean it up.
func HDFS(ctx context.Context, opts ...Option) (*HDFSContainer, error) {
	cfg := newConfig(hdfsImageEnv, DefaultHDFSImage, "256m", 120*time.Second, opts)
	if cfg.dataNodes < 1 || cfg.dataNodes > 3 {
		return nil, fmt.Errorf("start hdfs: %d DataNodes asked for; 1 to 3 are supported", cfg.dataNodes)
	}
	env := map[string]string{
		"CORE-SITE.XML_fs.defaultFS":                                         HDFSNameNodeURI,
		"HDFS-SITE.XML_dfs.namenode.rpc-bind-host":                           "0.0.0.0",
		"HDFS-SITE.XML_dfs.namenode.servicerpc-bind-host":                    "0.0.0.0",
		"HDFS-SITE.XML_dfs.namenode.http-bind-host":                          "0.0.0.0",
		"HDFS-SITE.XML_dfs.namenode.http-address":                            "0.0.0.0:9870",
		"HDFS-SITE.XML_dfs.namenode.name.dir":                                "file:///tmp/hdfs/name",
		"HDFS-SITE.XML_dfs.permissions.enabled":                              "false",
		"HDFS-SITE.XML_dfs.namenode.safemode.extension":                      "0",
		"HDFS-SITE.XML_dfs.namenode.datanode.registration.ip-hostname-check": "false",
		"HDFS-SITE.XML_dfs.replication":                                      "1",
		// A DataNode heartbeats every second (default 3s) and the NameNode
		// looks for silent ones every 500ms (default 5 min): it declares a
		// DataNode dead after 2×recheck + 10×heartbeat = 11s, not 10m30s,
		// so a check that kills one (hdfs/02) need not wait minutes.
		"HDFS-SITE.XML_dfs.heartbeat.interval":                  "1",
		"HDFS-SITE.XML_dfs.namenode.heartbeat.recheck-interval": "500",
		// Spark's Thrift Server runs each session's queries as that session's
		// user through its own login (HADOOP_USER_NAME=delab): a proxy user.
		"CORE-SITE.XML_hadoop.proxyuser.delab.hosts":  "*",
		"CORE-SITE.XML_hadoop.proxyuser.delab.groups": "*",
		"HDFS_NAMENODE_OPTS":                          "-Xmx" + cfg.heap,
		"HDFS_DATANODE_OPTS":                          "-Xmx128m",
	}
	ports := []string{"8020/tcp", "9870/tcp"}
	for i := 0; i < cfg.dataNodes; i++ {
		ports = append(ports, strconv.Itoa(dataNodePort(i))+"/tcp")
	}
	customizers := append(cfg.common("hdfs"),
		testcontainers.WithEnv(env),
		testcontainers.WithExposedPorts(ports...),
		testcontainers.WithFiles(testcontainers.ContainerFile{Reader: strings.NewReader(hdfsStartScript), ContainerFilePath: "/tmp/delab-hdfs-start.sh", FileMode: 0o755}),
		// The official starter word-splits its arguments: none may contain spaces.
		testcontainers.WithCmd("bash", "/tmp/delab-hdfs-start.sh", strconv.Itoa(cfg.dataNodes)),
		// WithWaitStrategy alone would cap the wait at 60s: too short for a
		// JVM on a busy 2-core machine.
		testcontainers.WithWaitStrategyAndDeadline(cfg.startup, wait.ForLog("Successfully sent block report").WithOccurrence(cfg.dataNodes).WithStartupTimeout(cfg.startup)),
	)
	c, err := testcontainers.Run(ctx, cfg.image, customizers...)
	out := &HDFSContainer{DockerContainer: c, Image: cfg.image, DataNodes: map[int]string{}, stopped: map[int]bool{}}
	if err != nil {
		return out, startError(ctx, "hdfs ("+cfg.image+")", c, err)
	}
	if out.NameNode, err = mappedHostPort(ctx, c, "8020/tcp"); err != nil {
		return out, fmt.Errorf("start hdfs: %w", err)
	}
	if out.WebUI, err = mappedHostPort(ctx, c, "9870/tcp"); err != nil {
		return out, fmt.Errorf("start hdfs: %w", err)
	}
	out.WebUI = "http://" + out.WebUI
	for i := 0; i < cfg.dataNodes; i++ {
		addr, err := mappedHostPort(ctx, c, strconv.Itoa(dataNodePort(i))+"/tcp")
		if err != nil {
			return out, fmt.Errorf("start hdfs: %w", err)
		}
		out.DataNodes[dataNodePort(i)] = addr
	}
	if err := waitWritable(ctx, out, cfg.startup); err != nil {
		return out, startError(ctx, "hdfs ("+cfg.image+"): first write", c, err)
	}
	return out, nil
}

func (h *HDFSContainer) container() *testcontainers.DockerContainer {
	if h == nil {
		return nil
	}
	return h.DockerContainer
}

func (h *HDFSContainer) addEndpoints(e *Endpoints) {
	e.HDFSNameNode, e.HDFSDataNodes, e.HDFSWebUI = h.NameNode, h.DataNodes, h.WebUI
}

// waitWritable returns once a file can be written: the log line says the
// DataNodes have reported, but the NameNode may still refuse to place a
// block on them for a moment ("could only be written to 0 of the 1
// minReplication nodes"). Labs must never see that.
func waitWritable(ctx context.Context, h *HDFSContainer, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		if last = tryWrite(h); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("no write succeeded within %s: %w", limit, last)
}

func tryWrite(h *HDFSContainer) error {
	c, err := h.Client()
	if err != nil {
		return err
	}
	defer c.Close()
	const probe = "/.delab-ready"
	_ = c.Remove(probe)
	if err := hdfsclient.PutFile(c, probe, []byte("ok"), 1, 1<<20); err != nil {
		return err
	}
	return c.Remove(probe)
}

// Client returns a host-side HDFS client.
func (h *HDFSContainer) Client() (*hdfs.Client, error) {
	return hdfs.NewClient(hdfsclient.Options(h.NameNode, h.DataNodes))
}

// hdfsRunDir holds the supervisor's pid files and the checker's requests
// (see hdfs-start.sh).
const hdfsRunDir = "/tmp/delab-hdfs"

// hdfsBlockReportLog is what a DataNode logs once the NameNode has taken
// its block report.
const hdfsBlockReportLog = "Successfully sent block report"

// StopDataNode kills DataNode i's JVM with SIGKILL, as a crash would, and
// returns once the process is gone: the NameNode notices in its own time
// (11s to 16s: see the heartbeat settings in HDFS and
// WaitDataNodeRemoved). It stays down, and the container keeps running,
// until StartDataNode. It is the checker's fault injection; a
// container without the supervisor (a warm one an older delab started)
// cannot do it, and says so.
func (h *HDFSContainer) StopDataNode(ctx context.Context, i int) error {
	if i < 0 || i >= len(h.DataNodes) {
		return fmt.Errorf("stop DataNode %d: this HDFS has DataNodes 0 to %d", i, len(h.DataNodes)-1)
	}
	st, err := hdfsclient.ReadNameNodeState(ctx, h.WebUI)
	if err != nil {
		return h.serviceError(ctx, fmt.Sprintf("stop DataNode %d", i), err)
	}
	if st.SafeMode != "" {
		return h.serviceError(ctx, fmt.Sprintf("stop DataNode %d", i), fmt.Errorf("the NameNode is in safe mode: %s", st.SafeMode))
	}
	if !hdfsclient.HasDataNode(st.Live, dataNodePort(i)) {
		return h.serviceError(ctx, fmt.Sprintf("stop DataNode %d", i), fmt.Errorf("the NameNode does not count it as live before it was stopped (live: %v)", st.Live))
	}
	script := fmt.Sprintf("test -f %[1]s/supervisor || exit 3; test -f %[1]s/datanode%[2]d.pid || exit 4; touch %[1]s/datanode%[2]d.stop && p=$(cat %[1]s/datanode%[2]d.pid) && kill -9 $p || exit 1; for t in $(seq 100); do kill -0 $p 2>/dev/null || exit 0; sleep 0.05; done", hdfsRunDir, i)
	code, _, err := h.Exec(ctx, []string{"sh", "-c", script})
	switch {
	case err != nil:
		return fmt.Errorf("stop DataNode %d: %w", i, err)
	case code == 3:
		return fmt.Errorf("stop DataNode %d: this HDFS container cannot stop and start DataNodes (a warm one from an older delab? run `delab down`)", i)
	case code != 0:
		return fmt.Errorf("stop DataNode %d: it was not running (exit code %d)", i, code)
	}
	h.mu.Lock()
	h.stopped[i] = true
	h.mu.Unlock()
	return nil
}

// WaitDataNodeRemoved returns once the NameNode has declared DataNode i
// dead and dropped its replicas from its block map; since is a count
// from RemovedDataNodes taken before the DataNode stopped. The NameNode
// counts a DataNode as dead (JMX, fsck's "Number of data-nodes") as soon
// as its heartbeats are overdue, but drops its replicas only when its
// heartbeat monitor, which wakes every 5s, removes it, and logs so: what
// fsck and block locations show follows that line.
func (h *HDFSContainer) WaitDataNodeRemoved(ctx context.Context, i, since int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := h.RemovedDataNodes(ctx, i)
		if err == nil && n > since {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("no \"removeDeadDatanode\" line in its log")
			}
			return h.serviceError(ctx, fmt.Sprintf("the NameNode did not remove DataNode %d within %s", i, timeout), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// RemovedDataNodes counts the times the NameNode removed DataNode i as
// dead.
func (h *HDFSContainer) RemovedDataNodes(ctx context.Context, i int) (int, error) {
	return h.countLogMatch(ctx, regexp.MustCompile(`removeDeadDatanode: lost heartbeat from \S*:`+strconv.Itoa(dataNodePort(i))+`\b`))
}

// StartDataNode starts DataNode i again after StopDataNode (same ports,
// same data directory) and returns once the NameNode counts it as live
// and has taken its block report, so that its replicas count again.
// Starting a DataNode that runs does nothing.
func (h *HDFSContainer) StartDataNode(ctx context.Context, i int, timeout time.Duration) error {
	if i < 0 || i >= len(h.DataNodes) {
		return fmt.Errorf("start DataNode %d: this HDFS has DataNodes 0 to %d", i, len(h.DataNodes)-1)
	}
	before, err := h.countLog(ctx, hdfsBlockReportLog)
	if err != nil {
		return err
	}
	script := fmt.Sprintf("test -f %[1]s/supervisor || exit 3; test -f %[1]s/datanode%[2]d.stop || exit 0; touch %[1]s/datanode%[2]d.start && exit 5", hdfsRunDir, i)
	code, _, err := h.Exec(ctx, []string{"sh", "-c", script})
	switch {
	case err != nil:
		return fmt.Errorf("start DataNode %d: %w", i, err)
	case code == 3:
		return fmt.Errorf("start DataNode %d: this HDFS container cannot stop and start DataNodes (a warm one from an older delab? run `delab down`)", i)
	case code == 0:
		return nil
	case code != 5:
		return fmt.Errorf("start DataNode %d: the request failed (exit code %d)", i, code)
	}
	deadline := time.Now().Add(timeout)
	for {
		st, err := hdfsclient.ReadNameNodeState(ctx, h.WebUI)
		if err == nil && hdfsclient.HasDataNode(st.Live, dataNodePort(i)) {
			n, lerr := h.countLog(ctx, hdfsBlockReportLog)
			if lerr == nil && n > before {
				h.mu.Lock()
				delete(h.stopped, i)
				h.mu.Unlock()
				return nil
			}
			err = lerr
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("no block report from it yet")
			}
			return h.serviceError(ctx, fmt.Sprintf("start DataNode %d: the NameNode did not count it as live within %s", i, timeout), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// health finds the problems a running container can have: a NameNode in
// safe mode, or fewer live DataNodes than started, not counting the ones
// the checker stopped. It ignores a NameNode that does not answer (a busy
// machine): a daemon that dies ends the container, which Health sees.
func (h *HDFSContainer) health(ctx context.Context) error {
	st, err := hdfsclient.ReadNameNodeState(ctx, h.WebUI)
	if err != nil {
		return nil
	}
	h.mu.Lock()
	want := len(h.DataNodes) - len(h.stopped)
	h.mu.Unlock()
	switch {
	case st.SafeMode != "":
		return &ServiceDiedError{Service: catalog.HDFS, State: "NameNode in safe mode: " + st.SafeMode, Logs: lastLogLines(ctx, h, 20)}
	case len(st.Live) < want:
		return &ServiceDiedError{Service: catalog.HDFS, State: fmt.Sprintf("%d live DataNodes of %d (live: %v, dead: %v)", len(st.Live), want, st.Live, st.Dead), Logs: lastLogLines(ctx, h, 20)}
	}
	return nil
}

// serviceError is err from what, with the container's last log lines.
func (h *HDFSContainer) serviceError(ctx context.Context, what string, err error) error {
	return fmt.Errorf("%s: %w\nthe HDFS container's last log lines:\n%s", what, err, lastLogLines(context.WithoutCancel(ctx), h, 20))
}

func (h *HDFSContainer) countLog(ctx context.Context, line string) (int, error) {
	return h.countLogMatch(ctx, regexp.MustCompile(regexp.QuoteMeta(line)))
}

func (h *HDFSContainer) countLogMatch(ctx context.Context, re *regexp.Regexp) (int, error) {
	rc, err := h.Logs(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the HDFS log: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return 0, fmt.Errorf("read the HDFS log: %w", err)
	}
	return len(re.FindAllIndex(data, -1)), nil
}
