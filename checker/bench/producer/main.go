// Command producer measures the reference producer of the lab
// kafka/03-reliable-producer on this machine, the yardstick of that lab's
// throughput check: it starts a broker, produces the check's 100,000
// events several times (a fresh topic each time), and prints each rate,
// their median, and the threshold a learner's producer must reach.
//
//	go run ./checker/bench/producer [-runs 7]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/IBM/sarama"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/delab-dev/delab/checker/catalog"
	reliableproducer "github.com/delab-dev/delab/checker/labs/kafka/03-reliable-producer"
	reference "github.com/delab-dev/delab/checker/labs/kafka/03-reliable-producer/solution"
	"github.com/delab-dev/delab/checker/services"
)

func main() {
	tclog.SetDefault(tclog.NewNoopLogger())
	runs := flag.Int("runs", 7, "producer runs")
	events := flag.Int("events", 100_000, "events per run (the throughput check uses 100,000)")
	flag.Parse()
	if err := run(context.Background(), *runs, *events); err != nil {
		fmt.Fprintln(os.Stderr, "producer bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, runs, n int) error {
	if err := services.CheckDocker(ctx); err != nil {
		return err
	}
	st, err := services.Start(ctx, []catalog.Service{catalog.Kafka}, services.StackOptions{})
	defer func() { _ = st.Terminate(context.WithoutCancel(ctx)) }()
	if err != nil {
		return err
	}
	brokers := st.Endpoints().KafkaBrokers
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	admin, err := sarama.NewClusterAdmin(brokers, cfg)
	if err != nil {
		return err
	}
	defer admin.Close()
	events := reliableproducer.Events(1, n)
	fmt.Printf("reference producer, %d events of ~80 bytes to a topic of 3 partitions, broker %s\n", n, services.ImagesFromEnv().Of(catalog.Kafka))
	var rates []float64
	for i := range runs {
		topic := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
		if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			return err
		}
		start := time.Now()
		if err := reference.Produce(brokers, topic, events); err != nil {
			return err
		}
		r := float64(n) / time.Since(start).Seconds()
		rates = append(rates, r)
		fmt.Printf("run %d: %.0f events/s\n", i+1, r)
	}
	slices.Sort(rates)
	med := rates[len(rates)/2]
	fmt.Printf("median %.0f events/s (min %.0f, max %.0f); a learner's producer needs %.2f× that: %.0f events/s\n",
		med, rates[0], rates[len(rates)-1], reliableproducer.MinRatio, reliableproducer.MinRatio*med)
	return nil
}
