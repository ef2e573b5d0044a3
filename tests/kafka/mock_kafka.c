/*
 * tests/kafka/mock_kafka.c — pt_mock_kafka: librdkafka's mock Kafka cluster
 * as a process of its own, for tests on machines without a Kafka broker.
 *
 *     pt_mock_kafka [--brokers N] [--partitions P] [--topic NAME]...
 *
 * The mock speaks the real Kafka protocol on loopback TCP, so
 * pgtrail-capture and kcat talk to it as to a cluster. It prints its
 * bootstrap address (host:port,...) on stdout as one line, then serves
 * until SIGTERM or SIGINT. Outages are injected by signal: SIGUSR1 takes
 * every broker down (connections cut, new ones refused), SIGUSR2 brings
 * them all up again; each is acted on in the main loop and said on stderr
 * ("mock: brokers down"). It also stops when its parent dies, so a killed
 * test leaves nothing behind.
 *
 * Topics named with --topic are created with P partitions (default 4).
 * Others are created by the mock when a client's Metadata request asks
 * for them with auto-creation allowed (librdkafka producers do by
 * default, consumers do not), with the mock's default partition count.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t down_wanted;	/* 1 after SIGUSR1, 0 after SIGUSR2 */

static void
on_stop(int sig)
{
	(void) sig;
	stop_requested = 1;
}

static void
on_outage(int sig)
{
	down_wanted = sig == SIGUSR1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_outage;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
}

static void
usage(FILE *out)
{
	fprintf(out, "pt_mock_kafka runs librdkafka's mock Kafka cluster for tests.\n\n"
			"Usage:\n  pt_mock_kafka [--brokers N] [--partitions P] [--topic NAME]...\n\n"
			"Prints the bootstrap address on stdout, serves until SIGTERM or SIGINT.\n"
			"SIGUSR1 takes every broker down, SIGUSR2 brings them up.\n");
}

static int
parse_count(const char *text, const char *flag, int max)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (text[0] == '\0' || *end != '\0' || errno != 0 || v < 1 || v > max)
	{
		fprintf(stderr, "pt_mock_kafka: error: invalid value \"%s\" for --%s (expected 1 to %d)\n", text, flag, max);
		exit(2);
	}
	return (int) v;
}

/*
 * The rd_kafka_t the mock cluster hangs on (a producer that sends nothing).
 * rd_kafka_new takes the conf on success; on failure we free it.
 */
static rd_kafka_t *
new_handle(void)
{
	char		errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	/* it connects nowhere: keep "no bootstrap.servers" notices quiet */
	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
	{
		rd_kafka_conf_destroy(conf);
		fprintf(stderr, "pt_mock_kafka: error: could not create a librdkafka handle: %s\n", errstr);
		exit(3);
	}
	return rk;
}

static void
set_brokers(rd_kafka_mock_cluster_t *mc, int nbrokers, bool down)
{
	for (int id = 1; id <= nbrokers; id++)
	{
		rd_kafka_resp_err_t e = down ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);

		if (e)
			fprintf(stderr, "mock: broker %d %s: %s\n", id, down ? "down" : "up", rd_kafka_err2str(e));
	}
	fprintf(stderr, "mock: brokers %s\n", down ? "down" : "up");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"brokers", required_argument, NULL, 'b'},
		{"partitions", required_argument, NULL, 'p'},
		{"topic", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char **topics = calloc((size_t) argc, sizeof(char *));
	int			ntopics = 0,
				nbrokers = 1,
				partitions = 4,
				c;
	bool		down = false;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	struct timespec tick = {0, 10 * 1000 * 1000};

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
	{
		if (c == 'b')
			nbrokers = parse_count(optarg, "brokers", 32);
		else if (c == 'p')
			partitions = parse_count(optarg, "partitions", 1000);
		else if (c == 't')
			topics[ntopics++] = optarg;
		else
		{
			usage(c == 'h' ? stdout : stderr);
			free(topics);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "pt_mock_kafka: error: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	install_signals();
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	rk = new_handle();
	if ((mc = rd_kafka_mock_cluster_new(rk, nbrokers)) == NULL)
	{
		fprintf(stderr, "pt_mock_kafka: error: could not start the mock cluster\n");
		rd_kafka_destroy(rk);
		return 3;
	}
	for (int i = 0; i < ntopics; i++)
	{
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topics[i], partitions,
														   nbrokers < 3 ? nbrokers : 3);

		if (e)
		{
			fprintf(stderr, "pt_mock_kafka: error: could not create topic \"%s\": %s\n", topics[i], rd_kafka_err2str(e));
			return 3;
		}
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	while (!stop_requested)
	{
		if (down_wanted != down)
		{
			down = down_wanted;
			set_brokers(mc, nbrokers, down);
		}
		nanosleep(&tick, NULL);
	}
	fprintf(stderr, "mock: stopping\n");
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	free(topics);
	return 0;
}
