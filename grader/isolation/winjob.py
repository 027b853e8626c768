"""Windows Job Objects: one worker's whole process tree, held, bounded and ended at once.

Windows' own way to do what a PID namespace and a pids cgroup do on Linux: every
process the worker starts joins its job; the job bounds each process's
committed memory and the number of live processes; terminating the job ends
them all; and the job dies with the grader (``KILL_ON_JOB_CLOSE``: when the
grader's handle closes, Windows ends every process in it).

Imported only on Windows (:mod:`grader.isolation.portable` guards the import);
uses pywin32's ``win32job`` (a dependency on Windows only).  The grader puts
the worker in its job right after starting it, before it accepts the
worker's connection: no student code runs before the grader asks for the
submission's import, so none runs outside the job.  Written for Windows and not run where this
project's tests run (Linux): see ``.github/workflows/grade-everywhere.yml``.
"""

from __future__ import annotations

import win32api
import win32con
import win32job


class Job:
    """One worker's job object."""

    def __init__(self, memory_bytes: int | None, max_processes: int | None) -> None:
        self.handle = win32job.CreateJobObject(None, "")
        info = win32job.QueryInformationJobObject(self.handle, win32job.JobObjectExtendedLimitInformation)
        flags = win32job.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | win32job.JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
        if memory_bytes:
            flags |= win32job.JOB_OBJECT_LIMIT_PROCESS_MEMORY
            info["ProcessMemoryLimit"] = memory_bytes
        if max_processes:
            flags |= win32job.JOB_OBJECT_LIMIT_ACTIVE_PROCESS
            info["BasicLimitInformation"]["ActiveProcessLimit"] = max_processes
        info["BasicLimitInformation"]["LimitFlags"] = flags
        win32job.SetInformationJobObject(self.handle, win32job.JobObjectExtendedLimitInformation, info)

    def hold(self, pid: int) -> None:
        """Put process ``pid`` (and so everything it starts from now on) in the job."""
        process = win32api.OpenProcess(win32con.PROCESS_SET_QUOTA | win32con.PROCESS_TERMINATE, False, pid)
        try:
            win32job.AssignProcessToJobObject(self.handle, process)
        finally:
            win32api.CloseHandle(process)

    def terminate(self) -> None:
        """End every process in the job."""
        try:
            win32job.TerminateJobObject(self.handle, 1)
        except win32job.error:
            pass

    def close(self) -> None:
        self.terminate()
        self.handle.Close()


def job_for(pid: int, memory_bytes: int | None, max_processes: int | None) -> Job | None:
    """A job holding ``pid``, or None where Windows refuses (a grader already in a job that
    forbids nesting, before Windows 8): the launcher then ends the tree with psutil."""
    try:
        job = Job(memory_bytes, max_processes)
    except win32job.error:
        return None
    try:
        job.hold(pid)
    except (win32job.error, win32api.error):
        job.close()
        return None
    return job
