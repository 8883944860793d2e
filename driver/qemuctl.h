/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libqemuctl: the public C API.  (Filled in by the lifecycle work.) */
#ifndef QEMUCTL_H
#define QEMUCTL_H
#endif
