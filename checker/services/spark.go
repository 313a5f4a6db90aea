package services

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/beltran/gohive"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/endpoints"
)

// sparkDefinition is Spark's entry in the service table.
var sparkDefinition = Definition{
	Name:         catalog.Spark,
	Title:        "Spark",
	DefaultImage: DefaultSparkImage,
	ImageEnv:     sparkImageEnv,
	ImageFlag:    "spark-image",
	start: func(ctx context.Context, st *Stack, opts []Option) (service, error) {
		s, err := Spark(ctx, opts...)
		st.keep(func() { st.Spark = s })
		return s, err
	},
	summary: func(e Endpoints) string {
		return fmt.Sprintf("thrift (HiveServer2) %s, connect %s, UI and REST API %s", e.SparkThrift, e.SparkConnect, e.SparkUI)
	},
}

const sparkImageEnv = "DELAB_SPARK_IMAGE"

// SparkContainer is a running Spark Thrift Server (HiveServer2 protocol)
// with Spark in local mode, serving Spark Connect from the same JVM.
type SparkContainer struct {
	*testcontainers.DockerContainer
	// Thrift is the HiveServer2 address reachable from the host.
	Thrift string
	// Connect is the Spark Connect (gRPC) address reachable from the host,
	// as a "sc://host:port" URL.
	Connect string
	// UI is the Spark UI (and REST API under /api/v1), reachable from the host.
	UI string
	// Image is the image it runs.
	Image string
}

// SparkInternalThrift is the Thrift Server's address inside the services' network.
const SparkInternalThrift = endpoints.SparkInternalThrift

// sparkConnectPort is the Spark Connect server's port in the container.
const sparkConnectPort = "15002"

// Spark starts the Spark Thrift Server under the alias "spark", in local
// mode with two cores, the UI and its REST API on 4040, and Spark Connect
// on 15002. Spark Connect runs as a plugin of the Thrift Server's driver,
// not as a second server: one JVM, one heap, and both protocols see the
// same SparkContext (so the REST API lists the jobs of either). On the stack's
// network it reads and writes hdfs://hdfs:8020/ paths. Its container is
// returned even on error, so the caller can clean it up.
func Spark(ctx context.Context, opts ...Option) (*SparkContainer, error) {
	cfg := newConfig(sparkImageEnv, DefaultSparkImage, "1g", 180*time.Second, opts)
	cmd := []string{
		"/opt/spark/bin/spark-submit",
		"--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
		"--name", "delab-thrift-server",
		"--master", "local[2]",
		"--driver-memory", cfg.heap,
		"--conf", "spark.ui.enabled=true",
		"--conf", "spark.ui.port=4040",
		"--conf", "spark.sql.shuffle.partitions=4",
		"--conf", "spark.sql.warehouse.dir=/opt/spark/work-dir/warehouse",
		"--conf", "spark.driver.extraJavaOptions=-Dderby.system.home=/opt/spark/work-dir",
		// Both images ship jars/spark-connect_2.13-<version>.jar; the
		// plugin starts its gRPC service when the driver starts.
		"--conf", "spark.plugins=org.apache.spark.sql.connect.SparkConnectPlugin",
		"--conf", "spark.connect.grpc.binding.port=" + sparkConnectPort,
		"--hiveconf", "hive.server2.thrift.port=10000",
		"--hiveconf", "hive.server2.thrift.bind.host=0.0.0.0",
		"spark-internal",
	}
	customizers := append(cfg.common("spark"),
		testcontainers.WithEnv(map[string]string{"HADOOP_USER_NAME": "delab", "SPARK_NO_DAEMONIZE": "true"}),
		testcontainers.WithExposedPorts("10000/tcp", "4040/tcp", sparkConnectPort+"/tcp"),
		testcontainers.WithCmd(cmd...),
		// WithWaitStrategy alone would cap the wait at 60s: too short for a
		// JVM on a busy 2-core machine.
		// The plugin's service starts with the driver, before the Thrift
		// Server: its log line comes first, but both are awaited.
		testcontainers.WithWaitStrategyAndDeadline(cfg.startup, wait.ForAll(
			wait.ForLog("SparkConnectService$' on port "+sparkConnectPort).WithStartupTimeout(cfg.startup),
			wait.ForLog("HiveThriftServer2 started").WithStartupTimeout(cfg.startup),
		).WithDeadline(cfg.startup)),
	)
	c, err := testcontainers.Run(ctx, cfg.image, customizers...)
	out := &SparkContainer{DockerContainer: c, Image: cfg.image}
	if err != nil {
		return out, startError(ctx, "spark ("+cfg.image+")", c, err)
	}
	if out.Thrift, err = mappedHostPort(ctx, c, "10000/tcp"); err != nil {
		return out, fmt.Errorf("start spark: %w", err)
	}
	ui, err := mappedHostPort(ctx, c, "4040/tcp")
	if err != nil {
		return out, fmt.Errorf("start spark: %w", err)
	}
	out.UI = "http://" + ui
	connect, err := mappedHostPort(ctx, c, sparkConnectPort+"/tcp")
	if err != nil {
		return out, fmt.Errorf("start spark: %w", err)
	}
	out.Connect = "sc://" + connect
	if err := warmUp(ctx, c, out.Thrift); err != nil {
		return out, startError(ctx, "spark ("+cfg.image+"): warm-up query", c, err)
	}
	return out, nil
}

func (s *SparkContainer) container() *testcontainers.DockerContainer {
	if s == nil {
		return nil
	}
	return s.DockerContainer
}

func (s *SparkContainer) addEndpoints(e *Endpoints) {
	e.SparkThrift, e.SparkConnect, e.SparkUI = s.Thrift, s.Connect, s.UI
}

// warmUp runs one small CSV query so that the JVM has loaded and compiled
// the code paths labs use before a learner's first query: that query
// would otherwise take several seconds more than the next.
func warmUp(ctx context.Context, c testcontainers.Container, thrift string) error {
	if code, _, err := c.Exec(ctx, []string{"test", "-f", "/tmp/delab-warmup.csv"}); err == nil && code == 0 {
		return nil // a reused warm container is warm already
	}
	if err := c.CopyToContainer(ctx, []byte("site,reading\na,1\nb,2\na,3\n"), "/tmp/delab-warmup.csv", 0o644); err != nil {
		return err
	}
	conn, err := ConnectSpark(ctx, thrift)
	if err != nil {
		return err
	}
	defer conn.Close()
	cur := conn.Cursor()
	defer cur.Close()
	for _, q := range []string{
		"CREATE OR REPLACE TEMPORARY VIEW delab_warmup USING csv OPTIONS (path 'file:///tmp/delab-warmup.csv', header 'true', inferSchema 'true')",
		"SELECT site, count(*) AS n, CAST(max(reading) AS BIGINT) FROM delab_warmup GROUP BY site ORDER BY n DESC, site LIMIT 3",
	} {
		cur.Exec(ctx, q)
		if err := cur.Error(); err != nil {
			return err
		}
	}
	for cur.HasMore(ctx) {
		var site string
		var n, peak int64
		cur.FetchOne(ctx, &site, &n, &peak)
		if err := cur.Error(); err != nil {
			return err
		}
	}
	return nil
}

// ConnectSpark opens a HiveServer2 session to a Thrift Server at addr.
func ConnectSpark(ctx context.Context, addr string) (*gohive.Connection, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, err
	}
	conf := gohive.NewConnectConfiguration()
	conf.Username = "delab"
	conf.Password = "delab"
	conn, err := gohive.Connect(host, port, "NONE", conf)
	if err != nil {
		return nil, fmt.Errorf("connect to spark thrift server at %s: %w", addr, err)
	}
	return conn, nil
}
