// Fault injection for the crash and fault tests (docs/training.md, "Faults and
// recovery"): BERTKIT_FAULT=POINT[#K][:pause] names one point of the code and
// the K-th time it is reached (default 1). Unset, every call is one getenv.
//
//   kill_point("checkpoint.files_written");       // SIGKILL here (":pause": wait
//                                                 //  here until a signal ends the process)
//   if (fault_injected("train.nan_loss")) ...     // make the fault happen here
//
// Points: docs/training.md lists them. For tests; users never set it.
#pragma once

namespace bertkit {

// True when BERTKIT_FAULT names `point` and this is the K-th call for it.
bool fault_injected(const char* point);

// When BERTKIT_FAULT names `point` (the K-th time): the process ends at once by
// SIGKILL, with no cleanup, as a power cut or the OOM killer would end it; with
// ":pause" it waits there instead, for the test to signal it.
void kill_point(const char* point);

}  // namespace bertkit
