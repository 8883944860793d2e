/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver/state_devices.c: the run's devices in state.json, hostile records included. */
#include "config.h"

#include <stdio.h>

#include "driver/driver.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

#define DISK0 "{\"name\":\"disk0\",\"device\":\"disk-disk0\"}"
#define TAPNIC                                                                                    \
	"{\"name\":\"net0\",\"type\":\"network\",\"tap\":\"qc1234abcdn0\",\"mac\":\"52:54:00:ab:" \
	"CD:ef\"}"
#define USERNIC "{\"name\":\"net1\",\"type\":\"user\",\"mac\":\"52:54:00:00:00:01\"}"
#define GOOD "{\"memory\":167772160,\"disks\":[" DISK0 "],\"nics\":[" TAPNIC "," USERNIC "]}"

static struct qc_run_devices *parse_ok(const char *text)
{
	struct qc_run_devices *d = NULL;
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_run_devices_parse(text, strlen(text), &d, &err), &err);
	return d;
}

START_TEST(devices_parse)
{
	struct qc_run_devices *d = parse_ok(GOOD);

	ck_assert(d->memory == 167772160);
	ck_assert_uint_eq(d->n_disks, 1);
	ck_assert_str_eq(d->disks[0].name, "disk0");
	ck_assert_str_eq(d->disks[0].device, "disk-disk0");
	ck_assert_uint_eq(d->n_nics, 2);
	ck_assert_str_eq(d->nics[0].type, "network");
	ck_assert_str_eq(d->nics[0].tap, "qc1234abcdn0");
	ck_assert_str_eq(d->nics[0].mac, "52:54:00:ab:CD:ef");
	ck_assert_str_eq(d->nics[1].name, "net1");
	ck_assert_str_eq(d->nics[1].type, "user");
	ck_assert_str_eq(d->nics[1].tap, "");
	qc_run_devices_free(d);
	/* unknown keys are ignored; empty lists are fine */
	d = parse_ok("{\"memory\":1,\"disks\":[],\"nics\":[],\"later\":{\"x\":1}}");
	ck_assert_uint_eq(d->n_disks + d->n_nics, 0);
	qc_run_devices_free(d);
}
END_TEST

/* Format and parse give the same record back. */
START_TEST(devices_roundtrip)
{
	struct qc_run_devices *d = parse_ok(GOOD), *e;
	struct qc_error err = {0};
	cleanup_free char *text = NULL, *again = NULL;

	ck_assert_qc_ok(qc_run_devices_format(d, &text, &err), &err);
	e = parse_ok(text);
	ck_assert_qc_ok(qc_run_devices_format(e, &again, &err), &err);
	ck_assert_str_eq(text, again);
	ck_assert_str_eq(e->nics[0].tap, "qc1234abcdn0");
	/* the user NIC has no "tap" */
	ck_assert_ptr_nonnull(strstr(text, "\"tap\""));
	ck_assert_ptr_null(strstr(strstr(text, "\"tap\"") + 1, "\"tap\""));
	qc_run_devices_free(d);
	qc_run_devices_free(e);
}
END_TEST

static const struct {
	const char *text, *msg;
} bad[] = {
	{"{\"memory\":1,", NULL},
	{"[]", "devices: not an object"},
	{"{\"disks\":[],\"nics\":[]}", "\"memory\" is not a size"},
	{"{\"memory\":\"160M\",\"disks\":[],\"nics\":[]}", "\"memory\" is not a size"},
	{"{\"memory\":0,\"disks\":[],\"nics\":[]}", "\"memory\" is not a size"},
	{"{\"memory\":-1,\"disks\":[],\"nics\":[]}", "\"memory\" is not a size"},
	{"{\"memory\":17592186044417,\"disks\":[],\"nics\":[]}", "\"memory\" is not a size"},
	{"{\"memory\":1.5,\"disks\":[],\"nics\":[]}", "\"memory\" is not a size"},
	{"{\"memory\":1,\"nics\":[]}", "\"disks\" is not a list"},
	{"{\"memory\":1,\"disks\":{},\"nics\":[]}", "\"disks\" is not a list"},
	{"{\"memory\":1,\"disks\":[],\"nics\":\"net0\"}", "\"nics\" is not a list"},
	{"{\"memory\":1,\"disks\":[7],\"nics\":[]}", "disk '': bad name"},
	{"{\"memory\":1,\"disks\":[{\"name\":5,\"device\":\"d\"}],\"nics\":[]}",
		"disk #0: \"name\" is not a string"},
	{"{\"memory\":1,\"disks\":[{\"name\":\"../d\",\"device\":\"disk-d\"}],\"nics\":[]}",
		"disk '../d': bad name"},
	{"{\"memory\":1,\"disks\":[{\"name\":\"\",\"device\":\"disk-d\"}],\"nics\":[]}",
		"bad name"},
	{"{\"memory\":1,\"disks\":[{\"name\":\"-d\",\"device\":\"disk-d\"}],\"nics\":[]}",
		"bad name"},
	{"{\"memory\":1,\"disks\":[{\"name\":\"d\",\"device\":\"disk-d,file=/etc/shadow\"}],"
	 "\"nics\":[]}",
		"device id 'disk-d,file=/etc/shadow'"},
	{"{\"memory\":1,\"disks\":[{\"name\":\"d\"}],\"nics\":[]}", "device id ''"},
	{"{\"memory\":1,\"disks\":[" DISK0 "," DISK0 "],\"nics\":[]}", "disk 'disk0' twice"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":\"tap\","
	 "\"tap\":\"t\",\"mac\":\"52:54:00:00:00:01\"}]}",
		"type 'tap' is none of user, network, bridge"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":\"user\","
	 "\"tap\":\"t\",\"mac\":\"52:54:00:00:00:01\"}]}",
		"NIC 'n': bad tap 't'"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":\"bridge\","
	 "\"mac\":\"52:54:00:00:00:01\"}]}",
		"NIC 'n': bad tap ''"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":\"bridge\","
	 "\"tap\":\"qc1234abcdn0xxxx\",\"mac\":\"52:54:00:00:00:01\"}]}",
		"bad tap 'qc1234abcdn0xxxx'"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":\"bridge\","
	 "\"tap\":\"../lo\",\"mac\":\"52:54:00:00:00:01\"}]}",
		"bad tap '../lo'"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":\"user\","
	 "\"mac\":\"52:54:00:00:00\"}]}",
		"bad MAC '52:54:00:00:00'"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":\"user\","
	 "\"mac\":\"52-54-00-00-00-01\"}]}",
		"bad MAC"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":\"user\","
	 "\"mac\":\"52:54:00:00:00:0g\"}]}",
		"bad MAC"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[{\"name\":\"n\",\"type\":[],"
	 "\"mac\":\"52:54:00:00:00:01\"}]}",
		"NIC #0: \"type\" is not a string"},
	{"{\"memory\":1,\"disks\":[],\"nics\":[" USERNIC "," USERNIC "]}", "NIC 'net1' twice"},
};

START_TEST(devices_refused)
{
	struct qc_run_devices *d = NULL;
	struct qc_error err = {0};
	const char *t = bad[_i].text;
	int r = qc_run_devices_parse(t, strlen(t), &d, &err);

	ck_assert_msg(r < 0, "accepted: %s", t);
	ck_assert_ptr_null(d);
	unit_assert_contains(err.msg, "devices");
	unit_assert_contains(err.msg, bad[_i].msg);
}
END_TEST

/* A name over 63 bytes, and more devices than QC_RUN_MAX_DEVICES. */
START_TEST(devices_oversize)
{
	struct qc_run_devices *d = NULL;
	struct qc_error err = {0};
	cleanup_buf struct qc_buf b = {0};
	char name[65];

	memset(name, 'a', 64);
	name[64] = 0;
	qc_buf_printf(&b,
		"{\"memory\":1,\"disks\":[{\"name\":\"%s\",\"device\":\"d\"}],\"nics\":[]}", name);
	ck_assert_qc_fail(
		qc_run_devices_parse(b.data, b.len, &d, &err), &err, QC_ERR_INVALID, "bad name");
	qc_buf_free(&b);
	qc_buf_puts(&b, "{\"memory\":1,\"nics\":[],\"disks\":[");
	for (int i = 0; i <= QC_RUN_MAX_DEVICES; i++)
		qc_buf_printf(
			&b, "%s{\"name\":\"d%d\",\"device\":\"disk-d%d\"}", i ? "," : "", i, i);
	qc_buf_puts(&b, "]}");
	ck_assert_qc_fail(qc_run_devices_parse(b.data, b.len, &d, &err), &err, QC_ERR_INVALID,
		"\"disks\": more than 256 entries");
	ck_assert_ptr_null(d);
}
END_TEST

/* state.json with devices that fail a check: the rest loads, the devices are NULL. */
START_TEST(state_bad_devices_dropped)
{
	static const char text[] = "{\"running\":true,\"monitor_pid\":7,\"ports\":[22],"
				   "\"devices\":{\"memory\":\"lots\",\"disks\":[],\"nics\":[]}}";
	struct qc_state s = {0};
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_state_from_json(text, strlen(text), &s, &err), &err);
	ck_assert(s.running);
	ck_assert_int_eq(s.monitor_pid, 7);
	ck_assert_uint_eq(s.n_ports, 1);
	ck_assert_ptr_null(s.devices);
	qc_state_clear(&s);
}
END_TEST

static void ck_names(int dfd, const char *want)
{
	struct qc_state t = {0};
	struct qc_error err = {0};
	cleanup_buf struct qc_buf b = {0};

	ck_assert_qc_ok(qc_state_load(dfd, &t, &err), &err);
	ck_assert_ptr_nonnull(t.devices);
	for (size_t i = 0; i < t.devices->n_disks; i++)
		qc_buf_printf(&b, "%s ", t.devices->disks[i].name);
	qc_buf_puts(&b, "/");
	for (size_t i = 0; i < t.devices->n_nics; i++)
		qc_buf_printf(&b, " %s:%s:%s", t.devices->nics[i].name, t.devices->nics[i].type,
			t.devices->nics[i].tap);
	ck_assert_str_eq(b.data, want);
	qc_state_clear(&t);
}

/*
 * Hot-plug edits of the run's devices: kept by the monitor's later writes
 * of the same run; another run's state, or one without devices, is left.
 */
START_TEST(state_edit_devices)
{
	static const struct qc_state_device_edit add_disk1 = {
		.add = true, .name = "disk1", .device = "disk-disk1"};
	char *dir = unit_mkdtemp();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct qc_state s = {
		.running = true, .monitor_pid = 100, .started_at_ms = 5, .exit_status = -1};
	struct qc_error err = {0};

	s.devices = parse_ok(GOOD);
	ck_assert_qc_ok(qc_state_save_nosync(dfd, &s, &err), &err);
	ck_assert_qc_ok(qc_state_edit_devices(dfd, 100, 5, &add_disk1, &err), &err);
	ck_assert_qc_ok(qc_state_edit_devices(dfd, 100, 5,
				&(struct qc_state_device_edit){.add = true,
					.nic = true,
					.name = "net2",
					.type = "bridge",
					.tap = "qc1234abcdn2",
					.mac = "52:54:00:00:00:02"},
				&err),
		&err);
	ck_assert_qc_ok(qc_state_edit_devices(dfd, 100, 5,
				&(struct qc_state_device_edit){.nic = true, .name = "net1"}, &err),
		&err);
	ck_names(dfd, "disk0 disk1 / net0:network:qc1234abcdn0 net2:bridge:qc1234abcdn2");
	/* a bad device is refused, the record stays */
	ck_assert_qc_fail(qc_state_edit_devices(dfd, 100, 5,
				  &(struct qc_state_device_edit){
					  .add = true, .name = "disk9", .device = "a,b"},
				  &err),
		&err, QC_ERR_INVALID, "disk 'disk9'");
	/* the monitor's own write of the run keeps the edits */
	s.ready = true;
	ck_assert_qc_ok(qc_state_save_run(dfd, &s, &err), &err);
	ck_names(dfd, "disk0 disk1 / net0:network:qc1234abcdn0 net2:bridge:qc1234abcdn2");
	/* another run: its record is not edited */
	ck_assert_qc_ok(qc_state_edit_devices(
				dfd, 101, 5, &(struct qc_state_device_edit){.name = "disk0"}, &err),
		&err);
	ck_assert_qc_ok(qc_state_edit_devices(
				dfd, 100, 6, &(struct qc_state_device_edit){.name = "disk0"}, &err),
		&err);
	ck_names(dfd, "disk0 disk1 / net0:network:qc1234abcdn0 net2:bridge:qc1234abcdn2");
	/* a state without devices (an older qemuctl started the run) gets none */
	qc_run_devices_free(s.devices);
	s.devices = NULL;
	ck_assert_qc_ok(qc_state_save_nosync(dfd, &s, &err), &err);
	ck_assert_qc_ok(qc_state_edit_devices(dfd, 100, 5, &add_disk1, &err), &err);
	qc_state_clear(&s);
	ck_assert_qc_ok(qc_state_load(dfd, &s, &err), &err);
	ck_assert_ptr_null(s.devices);
	qc_state_clear(&s);
	close(dfd);
	unit_rmdir(dir);
}
END_TEST

static Suite *state_devices_suite(void)
{
	Suite *s = suite_create("state_devices");
	TCase *tc = tcase_create("refused");

	unit_tcase(s, "core", devices_parse, devices_roundtrip, devices_oversize,
		state_bad_devices_dropped, state_edit_devices, NULL);
	tcase_add_loop_test(tc, devices_refused, 0, (int) QC_ARRAY_SIZE(bad));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(state_devices_suite)
