package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/apache/spark-connect-go/spark/sql"
	"github.com/apache/spark-connect-go/spark/sql/functions"
	"github.com/apache/spark-connect-go/spark/sql/utils"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/hdfsclient"
	"github.com/delab-dev/delab/checker/services/faultproxy"
)

// RequireDocker skips a test under -short (make test-short), and when no
// Docker engine answers, except in CI (CI=true), where a skipped service
// test would make a green run prove nothing: there it fails.
func requireDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: service tests run in the full make test")
	}
	if err := CheckDocker(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("service tests must run in CI: %v", err)
		}
		t.Skipf("skipping service test: %v", err)
	}
}

func TestKafkaProduceAndConsume(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	k, err := Kafka(ctx)
	testcontainers.CleanupContainer(t, k.DockerContainer)
	require.NoError(t, err)

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_9_0_0
	cfg.Producer.Return.Successes = true
	admin, err := sarama.NewClusterAdmin(k.Brokers, cfg)
	require.NoError(t, err)
	defer admin.Close()
	require.NoError(t, admin.CreateTopic("smoke", &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false))

	prod, err := sarama.NewSyncProducer(k.Brokers, cfg)
	require.NoError(t, err)
	_, _, err = prod.SendMessage(&sarama.ProducerMessage{Topic: "smoke", Key: sarama.StringEncoder("k"), Value: sarama.StringEncoder("hello")})
	require.NoError(t, err)
	topics, err := admin.ListTopics()
	require.NoError(t, err)
	_, _, err = prod.SendMessage(&sarama.ProducerMessage{Topic: "nope", Value: sarama.StringEncoder("x")})
	assert.Error(t, err, "topic auto-creation is off")
	assert.NotContains(t, topics, "nope")
	require.NoError(t, prod.Close())

	cons, err := sarama.NewConsumer(k.Brokers, cfg)
	require.NoError(t, err)
	defer cons.Close()
	found := false
	for p := int32(0); p < 2 && !found; p++ {
		pc, err := cons.ConsumePartition("smoke", p, sarama.OffsetOldest)
		require.NoError(t, err)
		select {
		case m := <-pc.Messages():
			found = string(m.Value) == "hello"
		case <-time.After(2 * time.Second):
		}
		pc.Close()
	}
	assert.True(t, found, "the produced record is read back")
}

func TestHDFSWriteAndReadFromTheHost(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	nw, err := network.New(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nw.Remove(context.Background()) })
	h, err := HDFS(ctx, WithNetwork(nw), WithDataNodes(3))
	testcontainers.CleanupContainer(t, h.DockerContainer)
	require.NoError(t, err)
	require.Len(t, h.DataNodes, 3)

	c, err := h.Client()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.MkdirAll("/smoke", 0o755))
	w, err := c.CreateFile("/smoke/hello.txt", 3, 1<<20, 0o644)
	require.NoError(t, err)
	payload := strings.Repeat("delab\n", 400_000) // 2.4 MB: three 1 MiB blocks
	_, err = io.WriteString(w, payload)
	require.NoError(t, err)
	require.NoError(t, hdfsclient.CloseFile(w))

	r, err := c.Open("/smoke/hello.txt")
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, payload, string(got))
	info, err := c.Stat("/smoke/hello.txt")
	require.NoError(t, err)
	assert.Equal(t, int64(len(payload)), info.Size())
}

func TestSparkReadsAFileWrittenToHDFSOverThriftAndConnect(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	st, err := Start(ctx, []catalog.Service{catalog.HDFS, catalog.Spark}, StackOptions{})
	t.Cleanup(func() { assert.NoError(t, st.Terminate(context.Background())) })
	require.NoError(t, err)
	h, s := st.HDFS, st.Spark
	t.Logf("started hdfs in %s, spark in %s", st.StartDurations[catalog.HDFS], st.StartDurations[catalog.Spark])

	c, err := h.Client()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.MkdirAll("/smoke", 0o755))
	w, err := c.Create("/smoke/readings.csv")
	require.NoError(t, err)
	for i := 0; i < 100; i++ {
		fmt.Fprintf(w, "dev-%d,%d\n", i%7, i)
	}
	require.NoError(t, hdfsclient.CloseFile(w))

	conn, err := ConnectSpark(ctx, s.Thrift)
	require.NoError(t, err)
	defer conn.Close()
	cur := conn.Cursor()
	defer cur.Close()
	cur.Exec(ctx, "CREATE TEMPORARY VIEW readings USING csv OPTIONS (path '"+HDFSNameNodeURI+"/smoke/readings.csv')")
	require.NoError(t, cur.Error())
	cur.Exec(ctx, "SELECT count(*), sum(CAST(_c1 AS INT)) FROM readings")
	require.NoError(t, cur.Error())
	var n, sum int64
	cur.FetchOne(ctx, &n, &sum)
	require.NoError(t, cur.Error())
	assert.Equal(t, int64(100), n)
	assert.Equal(t, int64(4950), sum)

	// The same driver serves Spark Connect: the pinned Go client reads the
	// file as a DataFrame, groups it on the executors, and gets the plan
	// Spark ran. The client is experimental upstream; a broken upgrade of
	// its pin fails here.
	session, err := sql.NewSessionBuilder().Remote(s.Connect).Build(ctx)
	require.NoError(t, err)
	defer session.Stop()
	df, err := session.Read().Format("csv").Load(HDFSNameNodeURI + "/smoke/readings.csv")
	require.NoError(t, err)
	counts, err := df.GroupBy(functions.Col("_c0")).Count(ctx)
	require.NoError(t, err)
	counts, err = counts.Sort(ctx, functions.Col("_c0").Asc())
	require.NoError(t, err)
	rows, err := counts.Collect(ctx)
	require.NoError(t, err)
	got := map[string]int64{}
	for _, r := range rows {
		got[fmt.Sprint(r.At(0))] = r.At(1).(int64)
	}
	assert.Equal(t, map[string]int64{"dev-0": 15, "dev-1": 15, "dev-2": 14, "dev-3": 14, "dev-4": 14, "dev-5": 14, "dev-6": 14}, got)
	plan, err := counts.Explain(ctx, utils.ExplainModeFormatted)
	require.NoError(t, err)
	assert.Contains(t, plan, "HashAggregate")
	assert.Contains(t, plan, "Arguments: hashpartitioning(_c0")

	// The settings the Spark lessons state as facts (lessons/spark/*.md),
	// as a new session sees them: delab's own and Spark's defaults.
	// (spark.driver.maxResultSize is no SQL setting: SET cannot read it.)
	for key, want := range map[string]string{
		"spark.sql.shuffle.partitions":                                "4",
		"spark.sql.adaptive.enabled":                                  "true",
		"spark.sql.adaptive.skewJoin.enabled":                         "true",
		"spark.sql.adaptive.skewJoin.skewedPartitionFactor":           "5.0",
		"spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": "268435456b", // 256 MiB
		"spark.sql.autoBroadcastJoinThreshold":                        "10485760b",
		"spark.sql.join.preferSortMergeJoin":                          "true",
		"spark.sql.sources.parallelPartitionDiscovery.threshold":      "32",
	} {
		set, err := session.Sql(ctx, "SET "+key)
		require.NoError(t, err, key)
		rows, err := set.Collect(ctx)
		require.NoError(t, err, key)
		require.Len(t, rows, 1, key)
		assert.Equal(t, want, fmt.Sprint(rows[0].At(1)), key)
	}

	// And its jobs show in the REST API the graders read, beside the
	// Thrift Server's: one SparkContext.
	resp, err := http.Get(s.UI + "/api/v1/applications")
	require.NoError(t, err)
	defer resp.Body.Close()
	var apps []struct{ ID string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&apps))
	require.Len(t, apps, 1, "one driver serves Thrift and Connect")
	resp, err = http.Get(s.UI + "/api/v1/applications/" + apps[0].ID + "/sql?details=false&length=1000")
	require.NoError(t, err)
	defer resp.Body.Close()
	var execs []struct{ Description string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&execs))
	assert.GreaterOrEqual(t, len(execs), 3, "the warm-up, the Thrift query and the Connect query ran in one driver")
}

func TestSweepRemovesWhatADeadProcessLeft(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	dead := newConfig("", "", "", 0, nil).labels
	dead[LabelPID] = "2147483646" // no such process
	live := map[string]string{LabelOwner: "delab", LabelPID: strconv.Itoa(os.Getpid()), LabelWarm: "false"}
	run := func(labels map[string]string) *testcontainers.DockerContainer {
		c, err := testcontainers.Run(ctx, ImagesFromEnv().Of(catalog.Kafka), testcontainers.WithEntrypoint("sleep", "300"), testcontainers.WithLabels(labels))
		testcontainers.CleanupContainer(t, c)
		require.NoError(t, err)
		return c
	}
	orphan, mine := run(dead), run(live)

	removed, err := Sweep(ctx, false)
	require.NoError(t, err)
	assert.NotEmpty(t, removed)
	_, err = orphan.State(ctx)
	assert.Error(t, err, "the orphan is gone")
	st, err := mine.State(ctx)
	require.NoError(t, err, "a live process's container is kept")
	assert.True(t, st.Running)
}

func TestKafkaRestartBrokerKeepsAddressAndData(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	k, err := Kafka(ctx)
	testcontainers.CleanupContainer(t, k.DockerContainer)
	require.NoError(t, err)

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	admin, err := sarama.NewClusterAdmin(k.Brokers, cfg)
	require.NoError(t, err)
	require.NoError(t, admin.CreateTopic("restart", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false))
	admin.Close()
	send := func(v string) error {
		prod, err := sarama.NewSyncProducer(k.Brokers, cfg)
		if err != nil {
			return err
		}
		defer prod.Close()
		_, _, err = prod.SendMessage(&sarama.ProducerMessage{Topic: "restart", Value: sarama.StringEncoder(v)})
		return err
	}
	require.NoError(t, send("before"))

	before, err := k.countLog(ctx, kafkaStartedLog)
	require.NoError(t, err)
	began := time.Now()
	require.NoError(t, k.RestartBroker(ctx, 3*time.Second, 2*time.Minute))
	assert.GreaterOrEqual(t, time.Since(began), 3*time.Second, "the broker stays down as long as asked")
	after, err := k.countLog(ctx, kafkaStartedLog)
	require.NoError(t, err)
	assert.Equal(t, before+1, after, "the broker started exactly once more")
	addr, err := mappedHostPort(ctx, k.DockerContainer, "9092/tcp")
	require.NoError(t, err)
	assert.Equal(t, k.Brokers[0], addr, "the host address survives the restart")
	st, err := k.State(ctx)
	require.NoError(t, err)
	assert.True(t, st.Running, "the container keeps running")

	require.NoError(t, send("after"))
	cons, err := sarama.NewConsumer(k.Brokers, cfg)
	require.NoError(t, err)
	defer cons.Close()
	pc, err := cons.ConsumePartition("restart", 0, sarama.OffsetOldest)
	require.NoError(t, err)
	defer pc.Close()
	var got []string
	for len(got) < 2 {
		select {
		case m := <-pc.Messages():
			got = append(got, string(m.Value))
		case <-time.After(10 * time.Second):
			t.Fatalf("read %v, then nothing for 10s", got)
		}
	}
	assert.Equal(t, []string{"before", "after"}, got, "the record written before the crash survived it")

	// A broker that dies without a restart request still ends the container.
	_, _, err = k.Exec(ctx, []string{"sh", "-c", "kill -9 $(cat " + kafkaPidFile + ")"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := k.State(ctx)
		return err == nil && !st.Running
	}, 30*time.Second, 200*time.Millisecond, "a crash nobody asked for stops the container, so Health reports it")
}

// A warm Start removes the warm containers an older delab left for the
// same service under another name (another definition or image); it keeps
// the current one and those of services it was not asked for.
func TestWarmStartRemovesOutdatedWarmContainers(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	if warm, err := WarmRunning(ctx, ImagesFromEnv()); err == nil && len(warm) > 0 && os.Getenv("CI") != "true" {
		t.Skip("warm services are running (`delab up`); this test would remove them")
	}
	// The current definition's name, for an image name no real warm
	// service has, so that the test's "current" container is its own.
	images := Images{catalog.Kafka: "delab-test/kafka:" + strconv.Itoa(os.Getpid())}
	run := func(s catalog.Service, name string) *testcontainers.DockerContainer {
		labels := map[string]string{LabelOwner: "delab", LabelWarm: "true", LabelRole: string(s)}
		c, err := testcontainers.Run(ctx, ImagesFromEnv().Of(catalog.Kafka),
			testcontainers.WithEntrypoint("sleep", "300"), testcontainers.WithLabels(labels),
			testcontainers.WithName(name))
		testcontainers.CleanupContainer(t, c)
		require.NoError(t, err)
		return c
	}
	suffix := strconv.Itoa(os.Getpid())
	outdated := run(catalog.Kafka, "delab-warm-kafka-outdated-"+suffix)
	current := run(catalog.Kafka, WarmName(catalog.Kafka, images.Of(catalog.Kafka)))
	otherService := run(catalog.HDFS, "delab-warm-hdfs-outdated-"+suffix)

	removed, err := removeOutdatedWarm(ctx, []catalog.Service{catalog.Kafka}, images)
	require.NoError(t, err)
	require.Len(t, removed, 1)
	assert.Contains(t, removed[0], "delab-warm-kafka-outdated-"+suffix)
	_, err = outdated.State(ctx)
	assert.Error(t, err, "the outdated warm broker is gone")
	for _, c := range []*testcontainers.DockerContainer{current, otherService} {
		st, err := c.State(ctx)
		require.NoError(t, err)
		assert.True(t, st.Running, "kept: %s", c.ID[:12])
	}
}

// The checker's DataNode fault: a killed DataNode is declared dead by the
// NameNode within seconds while the container and the other DataNodes keep
// running; a file with replication 3 stays readable; started again, the
// DataNode counts as live with its old replicas; a DataNode that dies
// without the checker asking ends the container, so Health reports it.
func TestHDFSStopAndStartDataNode(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	st, err := Start(ctx, []catalog.Service{catalog.HDFS}, StackOptions{})
	t.Cleanup(func() { assert.NoError(t, st.Terminate(context.Background())) })
	require.NoError(t, err)
	h := st.HDFS
	c, err := h.Client()
	require.NoError(t, err)
	defer c.Close()
	payload := []byte(strings.Repeat("replica\n", 300_000)) // 2.4 MB: three 1 MiB blocks
	require.NoError(t, hdfsclient.PutFile(c, "/smoke/r3.bin", payload, 3, 1<<20))
	require.NoError(t, hdfsclient.PutFile(c, "/smoke/empty", nil, 1, 1<<20), "an empty file closes: no block allocated")
	fi, err := c.Stat("/smoke/empty")
	require.NoError(t, err)
	assert.Zero(t, fi.Size())
	// The DataNodes report their replicas a moment after the write.
	require.Eventually(t, func() bool {
		fsck, err := st.Exec(ctx, catalog.HDFS, "hdfs", "fsck", "/smoke/r3.bin", "-files", "-blocks", "-locations")
		return err == nil && strings.Count(fsck, "Live_repl=3") == 3
	}, 30*time.Second, time.Second, "three replicas of each block")

	removed, err := h.RemovedDataNodes(ctx, 1)
	require.NoError(t, err)
	began := time.Now()
	require.NoError(t, st.StopNode(ctx, catalog.HDFS, 1))
	got, err := c.ReadFile("/smoke/r3.bin")
	require.NoError(t, err, "the other replicas serve the file before the NameNode knows")
	assert.Equal(t, payload, got)
	require.NoError(t, h.WaitDataNodeRemoved(ctx, 1, removed, time.Minute))
	t.Logf("DataNode 1 declared dead %s after the kill", time.Since(began).Round(time.Millisecond))
	assert.Less(t, time.Since(began), 40*time.Second, "the short heartbeat settings apply")
	ns, err := hdfsclient.ReadNameNodeState(ctx, h.WebUI)
	require.NoError(t, err)
	assert.Len(t, ns.Live, 2)
	assert.True(t, hdfsclient.HasDataNode(ns.Dead, dataNodePort(1)), "dead: %v", ns.Dead)
	require.NoError(t, st.Health(ctx), "a DataNode the checker stopped is no service failure")

	got, err = c.ReadFile("/smoke/r3.bin")
	require.NoError(t, err, "the other replicas serve the file")
	assert.Equal(t, payload, got)
	fsck, err := st.Exec(ctx, catalog.HDFS, "hdfs", "fsck", "/smoke/r3.bin", "-files", "-blocks", "-locations")
	require.NoError(t, err, fsck)
	assert.Contains(t, fsck, "Live_repl=2")
	assert.NotContains(t, fsck, ":9876,", "the dead DataNode holds no live replica")

	began = time.Now()
	require.NoError(t, st.StartNode(ctx, catalog.HDFS, 1))
	t.Logf("DataNode 1 live again %s after the start", time.Since(began).Round(time.Millisecond))
	ns, err = hdfsclient.ReadNameNodeState(ctx, h.WebUI)
	require.NoError(t, err)
	assert.Len(t, ns.Live, 3, "live: %v", ns.Live)
	require.NoError(t, st.StartNode(ctx, catalog.HDFS, 1), "starting a running DataNode does nothing")
	fsck, err = st.Exec(ctx, catalog.HDFS, "hdfs", "fsck", "/smoke/r3.bin", "-files", "-blocks", "-locations")
	require.NoError(t, err, fsck)
	assert.Equal(t, 3, strings.Count(fsck, "Live_repl=3"), fsck)
	require.NoError(t, st.Health(ctx))

	// Health sees a DataNode that is dead in the NameNode's eyes though the
	// checker did not stop it (here: stopped behind the stack's back).
	_, _, err = h.Exec(ctx, []string{"sh", "-c", "touch " + hdfsRunDir + "/datanode2.stop && kill -9 $(cat " + hdfsRunDir + "/datanode2.pid)"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var died *ServiceDiedError
		return errors.As(st.Health(ctx), &died)
	}, 60*time.Second, 500*time.Millisecond, "a DataNode dead without the checker asking is a service failure")
	require.NoError(t, h.StartDataNode(ctx, 2, 2*time.Minute))

	// A DataNode that dies without a stop request ends the container.
	_, _, err = h.Exec(ctx, []string{"sh", "-c", "kill -9 $(cat " + hdfsRunDir + "/datanode0.pid)"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s, err := h.State(ctx)
		return err == nil && !s.Running
	}, 30*time.Second, 200*time.Millisecond, "a crash nobody asked for stops the container, so Health reports it")
	var died *ServiceDiedError
	require.ErrorAs(t, st.Health(ctx), &died)
	assert.Contains(t, died.Logs, "exited on its own")
}

// TestKafkaFaultProxyLosesAcks proves the fault kafka/03 grades against:
// a client that bootstraps through FaultBrokers stays behind the fault
// proxy (the broker advertises the proxy's address), and an armed proxy
// loses the broker's answer to a produce request the broker has written.
// A producer that retries without idempotence then writes the record
// twice, every time; an idempotent one writes it once.
func TestKafkaFaultProxyLosesAcks(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	k, err := Kafka(ctx)
	testcontainers.CleanupContainer(t, k.DockerContainer)
	require.NoError(t, err)
	proxy := func(args ...string) string {
		code, rd, err := k.Exec(ctx, append([]string{faultproxy.Path}, args...), tcexec.Multiplexed())
		require.NoError(t, err)
		out, _ := io.ReadAll(rd)
		require.Equal(t, 0, code, string(out))
		return strings.TrimSpace(string(out))
	}

	admin, err := sarama.NewClusterAdmin(k.Brokers, sarama.NewConfig())
	require.NoError(t, err)
	defer admin.Close()
	const rounds = 5
	for _, idempotent := range []bool{false, true} {
		topic := fmt.Sprintf("acks-%v", idempotent)
		require.NoError(t, admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false))
		cfg := sarama.NewConfig()
		cfg.Version = sarama.V4_0_0_0
		cfg.Producer.Return.Successes = true
		cfg.Producer.RequiredAcks = sarama.WaitForAll
		cfg.Producer.Retry.Max = 20
		cfg.Producer.Idempotent = idempotent
		if idempotent {
			cfg.Net.MaxOpenRequests = 1
		}
		client, err := sarama.NewClient(k.FaultBrokers, cfg)
		require.NoError(t, err)
		prod, err := sarama.NewSyncProducerFromClient(client)
		require.NoError(t, err)
		require.NoError(t, client.RefreshMetadata(topic))
		leader, err := client.Leader(topic, 0)
		require.NoError(t, err)
		assert.Equal(t, k.FaultBrokers[0], leader.Addr(), "the broker advertises the proxy's address to a client that came through it")
		proxy("reset")
		for i := range rounds {
			proxy("arm", "1")
			_, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(strconv.Itoa(i))})
			require.NoError(t, err, "the retry succeeds")
		}
		assert.True(t, strings.HasPrefix(proxy("stats"), fmt.Sprintf("dropped %d armed 0", rounds)), "one answer lost per record")
		prod.Close()
		client.Close()

		direct, err := sarama.NewClient(k.Brokers, cfg)
		require.NoError(t, err)
		hwm, err := direct.GetOffset(topic, 0, sarama.OffsetNewest)
		direct.Close()
		require.NoError(t, err)
		t.Logf("idempotent=%v: %d records sent, %d answers lost, %d records on the topic", idempotent, rounds, rounds, hwm)
		if idempotent {
			assert.Equal(t, int64(rounds), hwm, "the idempotent producer's retries write nothing twice")
		} else {
			assert.Equal(t, int64(2*rounds), hwm, "each lost answer makes the retry write the record twice")
		}
	}
}
