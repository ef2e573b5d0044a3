"""pq.py - the few libpq calls the fidelity fuzzer needs, through ctypes.

The fuzzer drives several sessions at once, statement by statement, and
reads tables with COPY; psql cannot interleave sessions, and no PostgreSQL
driver for Python is among the project's packages, so this talks to the
same libpq the programs link. Errors of a statement are returned, not
raised: a random workload makes some statements fail, and that is fine.
"""
import ctypes
import ctypes.util

_lib = ctypes.CDLL(ctypes.util.find_library("pq") or "libpq.so.5")
_lib.PQconnectdb.restype = ctypes.c_void_p
_lib.PQconnectdb.argtypes = [ctypes.c_char_p]
_lib.PQstatus.argtypes = [ctypes.c_void_p]
_lib.PQerrorMessage.restype = ctypes.c_char_p
_lib.PQerrorMessage.argtypes = [ctypes.c_void_p]
_lib.PQfinish.argtypes = [ctypes.c_void_p]
_lib.PQexec.restype = ctypes.c_void_p
_lib.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_lib.PQgetResult.restype = ctypes.c_void_p
_lib.PQgetResult.argtypes = [ctypes.c_void_p]
_lib.PQresultStatus.argtypes = [ctypes.c_void_p]
_lib.PQresultErrorMessage.restype = ctypes.c_char_p
_lib.PQresultErrorMessage.argtypes = [ctypes.c_void_p]
_lib.PQntuples.argtypes = [ctypes.c_void_p]
_lib.PQnfields.argtypes = [ctypes.c_void_p]
_lib.PQgetvalue.restype = ctypes.c_char_p
_lib.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_lib.PQgetisnull.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_lib.PQclear.argtypes = [ctypes.c_void_p]
_lib.PQgetCopyData.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
_lib.PQputCopyData.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
_lib.PQputCopyEnd.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_lib.PQfreemem.argtypes = [ctypes.c_void_p]
_NOTICE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
_lib.PQsetNoticeProcessor.argtypes = [ctypes.c_void_p, _NOTICE, ctypes.c_void_p]
_quiet = _NOTICE(lambda arg, msg: None)   # notices of a random workload are noise

COMMAND_OK, TUPLES_OK, COPY_OUT, COPY_IN = 1, 2, 3, 4


class Error(Exception):
    pass


class Conn:
    """One session. exec() runs a statement (or several) and returns
    (rows, error): rows as lists of str/None, error text or None."""

    def __init__(self, dsn):
        self.c = _lib.PQconnectdb(dsn.encode())
        if _lib.PQstatus(self.c) != 0:
            msg = _lib.PQerrorMessage(self.c).decode(errors="replace")
            _lib.PQfinish(self.c)
            raise Error("connection failed: " + msg.strip())
        _lib.PQsetNoticeProcessor(self.c, _quiet, None)

    def close(self):
        if self.c:
            _lib.PQfinish(self.c)
            self.c = None

    def exec(self, sql, copy_data=None):
        res = _lib.PQexec(self.c, sql.encode())
        rows, error = [], None
        while res:
            st = _lib.PQresultStatus(res)
            if st == COPY_IN:
                _lib.PQclear(res)
                data = (copy_data or "").encode()
                _lib.PQputCopyData(self.c, data, len(data))
                _lib.PQputCopyEnd(self.c, None)
            elif st == COPY_OUT:
                _lib.PQclear(res)
                rows.extend(self._copy_out())
            else:
                if st == TUPLES_OK:
                    rows = self._rows(res)
                elif st != COMMAND_OK and error is None:
                    error = _lib.PQresultErrorMessage(res).decode(errors="replace").strip()
                _lib.PQclear(res)
            res = _lib.PQgetResult(self.c)
        return rows, error

    def _rows(self, res):
        out = []
        for r in range(_lib.PQntuples(res)):
            out.append([None if _lib.PQgetisnull(res, r, f) else _lib.PQgetvalue(res, r, f).decode()
                        for f in range(_lib.PQnfields(res))])
        return out

    def _copy_out(self):
        lines, buf = [], ctypes.c_void_p()
        while True:
            n = _lib.PQgetCopyData(self.c, ctypes.byref(buf), 0)
            if n < 0:
                return lines
            lines.append(ctypes.string_at(buf, n))
            _lib.PQfreemem(buf)

    def q(self, sql):
        """A statement that must succeed."""
        rows, error = self.exec(sql)
        if error:
            raise Error(f"{error}\nstatement: {sql}")
        return rows
