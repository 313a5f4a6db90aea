package services

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/endpoints"
	"github.com/delab-dev/delab/checker/services/faultproxy"
)

const (
	kafkaClusterID   = "5L6g3nShT-eMCtK--X86sw"
	kafkaStartScript = "/tmp/delab-kafka-start.sh"
	kafkaPidFile     = "/tmp/delab-kafka.pid"
	kafkaRestartFile = "/tmp/delab-kafka.restart"
	kafkaStartedLog  = "Kafka Server started"
	// KafkaInternalBroker is the broker address for containers on the stack's network.
	KafkaInternalBroker = endpoints.KafkaInternalBroker
	// kafkaFaultLog is where the fault proxy's output goes in the container.
	kafkaFaultLog = "/tmp/delab-faultproxy.log"
	// KafkaLogDir is the broker's log directory in its container: one
	// directory per partition, "<topic>-<partition>".
	KafkaLogDir = "/tmp/kraft-combined-logs"
)

// kafkaDefinition is Kafka's entry in the service table.
var kafkaDefinition = Definition{
	Name:         catalog.Kafka,
	Title:        "Kafka",
	DefaultImage: DefaultKafkaImage,
	ImageEnv:     kafkaImageEnv,
	ImageFlag:    "kafka-image",
	start: func(ctx context.Context, st *Stack, opts []Option) (service, error) {
		k, err := Kafka(ctx, opts...)
		st.keep(func() { st.Kafka = k })
		return k, err
	},
	restart: func(ctx context.Context, s service, down time.Duration) error {
		return s.(*KafkaContainer).RestartBroker(ctx, down, 2*time.Minute)
	},
	summary: func(e Endpoints) string {
		return fmt.Sprintf("brokers %s (from containers: %s)", strings.Join(e.KafkaBrokers, ","), KafkaInternalBroker)
	},
}

const kafkaImageEnv = "DELAB_KAFKA_IMAGE"

// KafkaContainer is a running single-node KRaft broker.
type KafkaContainer struct {
	*testcontainers.DockerContainer
	// Brokers are bootstrap addresses reachable from the host.
	Brokers []string
	// FaultBrokers are bootstrap addresses reachable from the host that
	// lead through the fault proxy (package faultproxy) to the broker.
	FaultBrokers []string
	// Image is the image it runs.
	Image string
}

// Kafka starts a single-node KRaft broker (combined broker and controller)
// with topic auto-creation off. Host clients use Brokers; containers on the
// same network use KafkaInternalBroker. Its container is returned even on
// error, so the caller can clean it up.
//
// The advertised listener must name the host's mapped port, which is only
// known once the container runs: the container waits for a start script,
// which a post-start hook writes with the right address (the pattern of
// testcontainers' own Kafka module).
func Kafka(ctx context.Context, opts ...Option) (*KafkaContainer, error) {
	cfg := newConfig(kafkaImageEnv, DefaultKafkaImage, "512m", 90*time.Second, opts)
	env := map[string]string{
		"CLUSTER_ID":          kafkaClusterID,
		"KAFKA_NODE_ID":       "1",
		"KAFKA_PROCESS_ROLES": "broker,controller",
		// FAULT and FAULTNET listen on loopback only: clients reach them
		// through the fault proxy (see kafkaSupervisor), on port 9094 from
		// the host and 19094 from the stack's network, and the broker
		// advertises the proxy's addresses for them, so that a client that
		// bootstrapped through the proxy stays behind it.
		"KAFKA_LISTENERS":                      "PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093,FAULT://127.0.0.1:9095,FAULTNET://127.0.0.1:19095",
		"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT,FAULT:PLAINTEXT,FAULTNET:PLAINTEXT",
		"KAFKA_INTER_BROKER_LISTENER_NAME":     "BROKER",
		"KAFKA_CONTROLLER_LISTENER_NAMES":      "CONTROLLER",
		// A static voter set: a dynamic quorum without --standalone fails to format on 4.x.
		"KAFKA_CONTROLLER_QUORUM_VOTERS":                         "1@localhost:9093",
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":                 "1",
		"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS":                     "3",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR":         "1",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":                    "1",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
		"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR":            "1",
		"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":                 "0",
		// Quotas measure rates over 2 one-second windows, not 11: a client
		// then bursts about one second's quota, not ten, before it is
		// throttled, and each throttle lasts about a request's worth
		// (kafka/03 throttles producers until it crashes the broker).
		"KAFKA_QUOTA_WINDOW_NUM": "2",
		// A deleted topic's files go after 1s, not Kafka's default 60s.
		// Checks delete every topic they create because a broker
		// restarted after SIGKILL (kafka/03) loads every log still on
		// disk before it serves again; with 60s, the topics of the
		// checks just before a crash were still there to load.
		"KAFKA_LOG_SEGMENT_DELETE_DELAY_MS": "1000",
		"KAFKA_AUTO_CREATE_TOPICS_ENABLE":   "false",
		"KAFKA_LOG_DIRS":                    KafkaLogDir,
		"KAFKA_HEAP_OPTS":                   "-Xmx" + cfg.heap + " -Xms" + cfg.heap,
	}
	customizers := append(cfg.common("kafka"),
		testcontainers.WithEnv(env),
		testcontainers.WithExposedPorts("9092/tcp", "9094/tcp"),
		testcontainers.WithEntrypoint("sh"),
		testcontainers.WithCmd("-c", kafkaSupervisor),
		testcontainers.WithAdditionalLifecycleHooks(testcontainers.ContainerLifecycleHooks{
			PostStarts: []testcontainers.ContainerHook{writeKafkaStartScript},
		}),
		// WithWaitStrategy alone would cap the wait at 60s: too short for a
		// JVM on a busy 2-core machine.
		testcontainers.WithWaitStrategyAndDeadline(cfg.startup, wait.ForLog(kafkaStartedLog).WithStartupTimeout(cfg.startup)),
	)
	c, err := testcontainers.Run(ctx, cfg.image, customizers...)
	out := &KafkaContainer{DockerContainer: c, Image: cfg.image}
	if err != nil {
		return out, startError(ctx, "kafka ("+cfg.image+")", c, err)
	}
	addr, err := mappedHostPort(ctx, c, "9092/tcp")
	if err != nil {
		return out, fmt.Errorf("start kafka: %w", err)
	}
	fault, err := mappedHostPort(ctx, c, "9094/tcp")
	if err != nil {
		return out, fmt.Errorf("start kafka: %w", err)
	}
	out.Brokers, out.FaultBrokers = []string{addr}, []string{fault}
	return out, nil
}

func (k *KafkaContainer) container() *testcontainers.DockerContainer {
	if k == nil {
		return nil
	}
	return k.DockerContainer
}

func (k *KafkaContainer) addEndpoints(e *Endpoints) {
	e.KafkaBrokers, e.KafkaFaultBrokers = k.Brokers, k.FaultBrokers
}

// kafkaSupervisor is the container's main process. It waits for the start
// script, runs the broker, and starts it again only when a grader asked for
// a restart (RestartBroker leaves a marker file first, holding how many
// seconds the broker stays down); a broker that dies
// on its own still ends the container, so Health sees it. It forwards
// docker stop's SIGTERM to the broker, which as PID 1 sh would ignore.
// Before the broker it starts the fault proxy (copied in with the start
// script), which outlives the broker's restarts: from port 9094 (the
// host's) to the FAULT listener and from 19094 (the stack network's) to
// FAULTNET. A check arms it to lose the broker's answers to produce
// requests (kafka/03).
const kafkaSupervisor = `trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit 0' TERM INT
while [ ! -f ` + kafkaStartScript + ` ]; do sleep 0.1; done
` + faultproxy.Path + ` serve 0.0.0.0:9094=127.0.0.1:9095 0.0.0.0:19094=127.0.0.1:19095 >` + kafkaFaultLog + ` 2>&1 &
while :; do
  bash ` + kafkaStartScript + ` & pid=$!
  echo $pid > ` + kafkaPidFile + `
  wait $pid; code=$?
  [ -f ` + kafkaRestartFile + ` ] || exit $code
  down=$(cat ` + kafkaRestartFile + `); rm -f ` + kafkaRestartFile + `
  echo "delab: broker killed by the checker; starting it again in ${down:-0}s"
  sleep "${down:-0}"
done`

// RestartBroker kills the broker process with SIGKILL, as a crash would,
// keeps it down for the given time (so that clients see an outage of a
// known length, not one that depends on how fast the JVM starts), and
// waits until the broker in the same container has started again:
// same ports, same advertised listener, same log directory. It is the
// checker's fault injection; a broker container without the supervisor
// (a warm one an older delab started) cannot do it, and says so.
func (k *KafkaContainer) RestartBroker(ctx context.Context, down, timeout time.Duration) error {
	before, err := k.countLog(ctx, kafkaStartedLog)
	if err != nil {
		return err
	}
	code, _, err := k.Exec(ctx, []string{"sh", "-c", fmt.Sprintf("test -f %[1]s && echo %[2]d > %[3]s && kill -9 $(cat %[1]s)", kafkaPidFile, int(down.Seconds()), kafkaRestartFile)})
	if err != nil {
		return fmt.Errorf("kill the broker: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("kill the broker: this broker cannot be restarted in place (a warm broker from an older delab? run `delab down`)")
	}
	// The same wait the start used, now for one more "started" line.
	err = wait.ForLog(kafkaStartedLog).WithOccurrence(before+1).
		WithPollInterval(200*time.Millisecond).WithStartupTimeout(down+timeout).
		WaitUntilReady(ctx, k)
	if err != nil {
		return fmt.Errorf("the broker did not start again within %s: %w", down+timeout, err)
	}
	return nil
}

func (k *KafkaContainer) countLog(ctx context.Context, line string) (int, error) {
	rc, err := k.Logs(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the broker's log: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return 0, fmt.Errorf("read the broker's log: %w", err)
	}
	return bytes.Count(data, []byte(line)), nil
}

// writeKafkaStartScript gives the waiting container the fault proxy and
// its advertised listeners; a reused (warm) container already has its
// script and keeps it.
func writeKafkaStartScript(ctx context.Context, c testcontainers.Container) error {
	if code, _, err := c.Exec(ctx, []string{"test", "-f", kafkaStartScript}); err == nil && code == 0 {
		return nil
	}
	addr, err := mappedHostPort(ctx, c, "9092/tcp")
	if err != nil {
		return err
	}
	fault, err := mappedHostPort(ctx, c, "9094/tcp")
	if err != nil {
		return err
	}
	proxy, err := faultProxyBinary(ctx)
	if err != nil {
		return err
	}
	if err := c.CopyToContainer(ctx, proxy, faultproxy.Path, 0o755); err != nil {
		return fmt.Errorf("copy the fault proxy: %w", err)
	}
	script := fmt.Sprintf("export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://%s,BROKER://%s,FAULT://%s,FAULTNET://%s\nexec /etc/kafka/docker/run\n",
		addr, KafkaInternalBroker, fault, endpoints.KafkaInternalFaultBroker)
	return c.CopyToContainer(ctx, []byte(script), kafkaStartScript, 0o755)
}
