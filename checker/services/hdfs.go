package services

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
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
	out := &HDFSContainer{DockerContainer: c, Image: cfg.image, DataNodes: map[int]string{}}
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
