/*
 * winnow_native.c - the `winnow._native` extension: a thin layer between
 * Python objects and the runtime's C API (winnow_runtime.h, winnow_dlpack.h).
 *
 * Written against the C limited API (abi3, Python >= 3.10), so one build
 * loads on Debian's Python 3.11 and on the GPU machine's 3.12: Debian's
 * pybind11 2.10 has no stable-ABI build and nanobind is not packaged, and a
 * ctypes call marshals every argument on each call, which costs more than
 * the whole budget of a small call (docs/python.md).
 *
 * Handles (module, device, executable) are capsules whose destructors drop
 * the runtime's reference. Tensors become DLTensors: a torch.Tensor through
 * its attributes (data_ptr, shape, stride, dtype, device: the same facts its
 * __dlpack__ would export, without building a capsule per call), anything
 * else through __dlpack__. The runtime then checks every tensor against the
 * manifest, so there is a single set of checks and messages.
 */
#define Py_LIMITED_API 0x030A0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "winnow/runtime/winnow_dlpack.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#define MODULE_CAPSULE "winnow.module"
#define DEVICE_CAPSULE "winnow.device"
#define EXECUTABLE_CAPSULE "winnow.executable"
/* The deepest tensor a call passes without a heap allocation; deeper ones
 * are rejected with a message (every tok operand has rank <= 4). */
#define MAX_RANK 8
#define MAX_ARGS 64

/* Exception class per status code, set by winnow/_errors.py at import. */
static PyObject *error_classes[WINNOW_STATUS_INTERNAL + 1];
/* torch.Tensor and {torch.dtype: (DLDataTypeCode, bits)}, when torch is
 * imported; NULL otherwise. */
static PyObject *torch_tensor_type;
static PyObject *torch_dtypes;

static PyObject *s_data_ptr, *s_shape, *s_stride, *s_dtype, *s_device, *s_type,
    *s_dlpack, *s_cpu, *s_is_contiguous, *s_is_cuda, *s_get_device;

/*===--------------------------------------------------------------------===*
 * Status
 *===--------------------------------------------------------------------===*/

/* Raises the status as its Python exception and frees it; returns NULL. */
static PyObject *raise_status(winnow_status status) {
  winnow_status_code_t code = winnow_status_code(status);
  PyObject *cls = NULL;
  if ((int)code > 0 && (int)code <= WINNOW_STATUS_INTERNAL)
    cls = error_classes[code];
  if (!cls)
    cls = PyExc_RuntimeError;
  PyErr_SetString(cls, winnow_status_message(status));
  winnow_status_free(status);
  return NULL;
}

/* Py_XSETREF, which the limited API lacks before 3.12. */
static void replace_reference(PyObject **slot, PyObject *value) {
  PyObject *old = *slot;
  *slot = value;
  Py_XDECREF(old);
}

static PyObject *set_error_classes(PyObject *self, PyObject *mapping) {
  if (!PyDict_Check(mapping)) {
    PyErr_SetString(PyExc_TypeError, "expected {code: exception class}");
    return NULL;
  }
  for (int code = 1; code <= WINNOW_STATUS_INTERNAL; ++code) {
    PyObject *key = PyLong_FromLong(code);
    if (!key)
      return NULL;
    PyObject *cls = PyDict_GetItem(mapping, key); /* borrowed */
    Py_DECREF(key);
    Py_XINCREF(cls);
    replace_reference(&error_classes[code], cls);
  }
  Py_RETURN_NONE;
}

static PyObject *set_torch(PyObject *self, PyObject *args) {
  PyObject *type, *dtypes;
  if (!PyArg_ParseTuple(args, "OO!", &type, &PyDict_Type, &dtypes))
    return NULL;
  Py_INCREF(type);
  replace_reference(&torch_tensor_type, type);
  Py_INCREF(dtypes);
  replace_reference(&torch_dtypes, dtypes);
  Py_RETURN_NONE;
}

/*===--------------------------------------------------------------------===*
 * Handles
 *===--------------------------------------------------------------------===*/

static void module_capsule_free(PyObject *capsule) {
  winnow_module_release(PyCapsule_GetPointer(capsule, MODULE_CAPSULE));
}
static void device_capsule_free(PyObject *capsule) {
  winnow_device_release(PyCapsule_GetPointer(capsule, DEVICE_CAPSULE));
}
static void executable_capsule_free(PyObject *capsule) {
  winnow_executable_release(PyCapsule_GetPointer(capsule, EXECUTABLE_CAPSULE));
}

static PyObject *wrap_module(winnow_module *module) {
  PyObject *capsule =
      PyCapsule_New(module, MODULE_CAPSULE, module_capsule_free);
  if (!capsule)
    winnow_module_release(module);
  return capsule;
}

static PyObject *load_file(PyObject *self, PyObject *args) {
  PyObject *path_bytes;
  if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path_bytes))
    return NULL;
  winnow_module *module = NULL;
  winnow_status status =
      winnow_module_load_file(PyBytes_AsString(path_bytes), &module);
  Py_DECREF(path_bytes);
  if (status)
    return raise_status(status);
  return wrap_module(module);
}

static PyObject *load_memory(PyObject *self, PyObject *args) {
  const char *data;
  Py_ssize_t size;
  if (!PyArg_ParseTuple(args, "y#", &data, &size))
    return NULL;
  winnow_module *module = NULL;
  winnow_status status = winnow_module_load_memory(data, (size_t)size, &module);
  if (status)
    return raise_status(status);
  return wrap_module(module);
}

static PyObject *shape_tuple(size_t rank, const int64_t *shape) {
  PyObject *tuple = PyTuple_New((Py_ssize_t)rank);
  if (!tuple)
    return NULL;
  for (size_t d = 0; d < rank; ++d) {
    PyObject *extent = PyLong_FromLongLong(shape[d]);
    if (!extent) {
      Py_DECREF(tuple);
      return NULL;
    }
    PyTuple_SetItem(tuple, (Py_ssize_t)d, extent);
  }
  return tuple;
}

/* (name, dtype name, shape, count_result, ragged_axis, dim_symbols): shape
 * holds -1 for a dynamic extent; dim_symbols is None when every extent is
 * static, else a tuple of symbol indices (-1 for a static extent). */
static PyObject *spec_tuple(const winnow_tensor_spec *spec) {
  PyObject *shape = shape_tuple(spec->rank, spec->shape);
  if (!shape)
    return NULL;
  PyObject *dims = Py_None;
  Py_INCREF(dims);
  if (spec->dim_symbols) {
    Py_DECREF(dims);
    dims = PyTuple_New((Py_ssize_t)spec->rank);
    for (size_t d = 0; dims && d < spec->rank; ++d) {
      PyObject *index = PyLong_FromLong((long)spec->dim_symbols[d]);
      if (!index) {
        Py_CLEAR(dims);
        break;
      }
      PyTuple_SetItem(dims, (Py_ssize_t)d, index);
    }
    if (!dims) {
      Py_DECREF(shape);
      return NULL;
    }
  }
  return Py_BuildValue("(ssNiiN)", spec->name, winnow_dtype_name(spec->dtype),
                       shape, (int)spec->count_result, (int)spec->ragged_axis,
                       dims);
}

static int append_new(PyObject *list, PyObject *item) {
  if (!item)
    return -1;
  int rc = PyList_Append(list, item);
  Py_DECREF(item);
  return rc;
}

/* [(name, bound)] of a function's symbols. */
static PyObject *symbol_list(winnow_module *module, size_t function,
                             size_t count) {
  PyObject *symbols = PyList_New(0);
  for (size_t s = 0; symbols && s < count; ++s) {
    winnow_symbol_info info;
    winnow_status status = winnow_module_get_symbol(module, function, s, &info);
    if (status) {
      Py_DECREF(symbols);
      return raise_status(status);
    }
    if (append_new(symbols,
                   Py_BuildValue("(sL)", info.name, (long long)info.bound)))
      Py_CLEAR(symbols);
  }
  return symbols;
}

/* {"producer", "source_name", "functions": [(name, [input specs],
 * [result specs], [symbols])], "targets": [(kind, triple, cpu, [cubin
 * archs], ptx arch, [workspace bytes per function])]} */
static PyObject *describe(PyObject *self, PyObject *capsule) {
  winnow_module *module = PyCapsule_GetPointer(capsule, MODULE_CAPSULE);
  if (!module)
    return NULL;
  winnow_module_info info;
  winnow_status status = winnow_module_get_info(module, &info);
  if (status)
    return raise_status(status);
  PyObject *functions = PyList_New(0), *targets = PyList_New(0);
  if (!functions || !targets)
    goto fail;
  for (size_t f = 0; f < info.num_functions; ++f) {
    winnow_function_info function;
    if ((status = winnow_module_get_function(module, f, &function)))
      goto fail_status;
    PyObject *inputs = PyList_New(0), *results = PyList_New(0);
    if (!inputs || !results) {
      Py_XDECREF(inputs);
      Py_XDECREF(results);
      goto fail;
    }
    for (size_t i = 0; i < function.num_inputs + function.num_results; ++i) {
      winnow_tensor_spec spec;
      int is_input = i < function.num_inputs;
      status = is_input ? winnow_module_get_input(module, f, i, &spec)
                        : winnow_module_get_result(
                              module, f, i - function.num_inputs, &spec);
      if (status ||
          append_new(is_input ? inputs : results, spec_tuple(&spec))) {
        Py_DECREF(inputs);
        Py_DECREF(results);
        if (status)
          goto fail_status;
        goto fail;
      }
    }
    PyObject *symbols = symbol_list(module, f, function.num_symbols);
    if (!symbols) {
      Py_DECREF(inputs);
      Py_DECREF(results);
      goto fail;
    }
    if (append_new(functions, Py_BuildValue("(sNNN)", function.name, inputs,
                                            results, symbols)))
      goto fail;
  }
  for (size_t t = 0; t < info.num_targets; ++t) {
    winnow_target_info target;
    if ((status = winnow_module_get_target(module, t, &target)))
      goto fail_status;
    PyObject *archs = PyList_New(0), *workspace = PyList_New(0);
    if (!archs || !workspace) {
      Py_XDECREF(archs);
      Py_XDECREF(workspace);
      goto fail;
    }
    int bad = 0;
    for (size_t a = 0; a < target.num_cubin_architectures && !bad; ++a)
      bad = append_new(archs,
                       PyUnicode_FromString(target.cubin_architectures[a]));
    for (size_t f = 0; f < info.num_functions && !bad; ++f)
      bad = append_new(workspace,
                       PyLong_FromLongLong(target.workspace_bytes
                                               ? target.workspace_bytes[f]
                                               : 0));
    const char *kind = target.kind == WINNOW_TARGET_KIND_CPU    ? "cpu"
                       : target.kind == WINNOW_TARGET_KIND_CUDA ? "cuda"
                                                                : "unknown";
    if (bad ||
        append_new(targets, Py_BuildValue("(sssNsN)", kind, target.triple,
                                          target.cpu ? target.cpu : "", archs,
                                          target.ptx_architecture
                                              ? target.ptx_architecture
                                              : "",
                                          workspace))) {
      if (bad) {
        Py_DECREF(archs);
        Py_DECREF(workspace);
      }
      goto fail;
    }
  }
  return Py_BuildValue("{sssssNsN}", "producer", info.producer, "source_name",
                       info.source_name, "functions", functions, "targets",
                       targets);
fail_status:
  raise_status(status);
fail:
  Py_XDECREF(functions);
  Py_XDECREF(targets);
  return NULL;
}

static PyObject *create_device(PyObject *self, PyObject *args) {
  const char *name;
  if (!PyArg_ParseTuple(args, "s", &name))
    return NULL;
  winnow_device *device = NULL;
  winnow_status status = winnow_device_create(name, &device);
  if (status)
    return raise_status(status);
  PyObject *capsule =
      PyCapsule_New(device, DEVICE_CAPSULE, device_capsule_free);
  if (!capsule)
    winnow_device_release(device);
  return capsule;
}

/* (kind "cpu"/"cuda", canonical name, description, ordinal) */
static PyObject *device_info(PyObject *self, PyObject *capsule) {
  winnow_device *device = PyCapsule_GetPointer(capsule, DEVICE_CAPSULE);
  if (!device)
    return NULL;
  winnow_device_info info;
  winnow_status status = winnow_device_get_info(device, &info);
  if (status)
    return raise_status(status);
  return Py_BuildValue("(sssi)",
                       info.kind == WINNOW_DEVICE_KIND_CUDA ? "cuda" : "cpu",
                       info.name, info.description, (int)info.ordinal);
}

static PyObject *create_executable(PyObject *self, PyObject *args) {
  PyObject *module_capsule, *device_capsule;
  if (!PyArg_ParseTuple(args, "OO", &module_capsule, &device_capsule))
    return NULL;
  winnow_module *module = PyCapsule_GetPointer(module_capsule, MODULE_CAPSULE);
  winnow_device *device =
      module ? PyCapsule_GetPointer(device_capsule, DEVICE_CAPSULE) : NULL;
  if (!device)
    return NULL;
  winnow_executable *executable = NULL;
  PyThreadState *thread = PyEval_SaveThread(); /* loading may take a while */
  winnow_status status = winnow_executable_create(module, device, &executable);
  PyEval_RestoreThread(thread);
  if (status)
    return raise_status(status);
  PyObject *capsule =
      PyCapsule_New(executable, EXECUTABLE_CAPSULE, executable_capsule_free);
  if (!capsule)
    winnow_executable_release(executable);
  return capsule;
}

/* set_num_threads(executable, n): threads per call of a CPU executable (0:
 * the runtime's default). */
static PyObject *set_num_threads(PyObject *self, PyObject *args) {
  PyObject *capsule;
  Py_ssize_t threads;
  if (!PyArg_ParseTuple(args, "On", &capsule, &threads))
    return NULL;
  winnow_executable *executable =
      PyCapsule_GetPointer(capsule, EXECUTABLE_CAPSULE);
  if (!executable)
    return NULL;
  if (threads < 0) {
    PyErr_Format(PyExc_ValueError, "threads must be 0 or more, not %zd",
                 threads);
    return NULL;
  }
  winnow_status status =
      winnow_executable_set_num_threads(executable, (size_t)threads);
  if (status)
    return raise_status(status);
  Py_RETURN_NONE;
}

/* num_threads(executable) -> the thread count its calls use. */
static PyObject *num_threads(PyObject *self, PyObject *capsule) {
  winnow_executable *executable =
      PyCapsule_GetPointer(capsule, EXECUTABLE_CAPSULE);
  if (!executable)
    return NULL;
  size_t threads = 0;
  winnow_status status =
      winnow_executable_get_num_threads(executable, &threads);
  if (status)
    return raise_status(status);
  return PyLong_FromSize_t(threads);
}

/* thread_stats() -> {"pool_threads", "parallel_loops", "serial_loops",
 * "ranges_on_pool_threads"}: the process's thread pool counters. */
static PyObject *thread_stats(PyObject *self, PyObject *unused) {
  winnow_thread_stats stats;
  winnow_status status = winnow_get_thread_stats(&stats);
  if (status)
    return raise_status(status);
  return Py_BuildValue("{s:n,s:K,s:K,s:K}", "pool_threads",
                       (Py_ssize_t)stats.pool_threads, "parallel_loops",
                       (unsigned long long)stats.parallel_loops, "serial_loops",
                       (unsigned long long)stats.serial_loops,
                       "ranges_on_pool_threads",
                       (unsigned long long)stats.ranges_on_pool_threads);
}

/* The bytes of caller workspace one call takes; None when the artifact
 * cannot say (its scratch is then allocated stream-ordered per call). */
static PyObject *workspace_size(PyObject *self, PyObject *args) {
  PyObject *capsule;
  Py_ssize_t index;
  if (!PyArg_ParseTuple(args, "On", &capsule, &index))
    return NULL;
  winnow_executable *executable =
      PyCapsule_GetPointer(capsule, EXECUTABLE_CAPSULE);
  if (!executable)
    return NULL;
  size_t bytes = 0;
  winnow_status status =
      winnow_function_workspace_size(executable, (size_t)index, &bytes);
  if (status) {
    if (winnow_status_code(status) == WINNOW_STATUS_FAILED_PRECONDITION) {
      winnow_status_free(status);
      Py_RETURN_NONE;
    }
    return raise_status(status);
  }
  return PyLong_FromSize_t(bytes);
}

static int read_tuple(PyObject *tuple, int64_t *out, Py_ssize_t *count);

/* result_shapes(module, function_index, input_shapes) -> (result shapes):
 * binds the function's symbols from the inputs' shapes (a sequence of int
 * tuples) and gives each result's shape, with the runtime's checks and
 * messages (winnow_module_bind_symbols, winnow_module_get_result_shape). */
static PyObject *result_shapes(PyObject *self, PyObject *args) {
  PyObject *capsule, *shapes_arg;
  Py_ssize_t function;
  if (!PyArg_ParseTuple(args, "OnO", &capsule, &function, &shapes_arg))
    return NULL;
  winnow_module *module = PyCapsule_GetPointer(capsule, MODULE_CAPSULE);
  if (!module)
    return NULL;
  winnow_function_info info;
  winnow_status status =
      winnow_module_get_function(module, (size_t)function, &info);
  if (status)
    return raise_status(status);
  PyObject *shapes = PySequence_Tuple(shapes_arg);
  if (!shapes)
    return NULL;
  Py_ssize_t n = PyTuple_Size(shapes);
  int64_t extents[MAX_ARGS][MAX_RANK];
  winnow_tensor tensors[MAX_ARGS];
  int64_t *values = NULL, result[MAX_RANK];
  PyObject *out = NULL;
  if (n > MAX_ARGS) {
    PyErr_Format(PyExc_ValueError, "more than %d inputs", MAX_ARGS);
    goto done;
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject *shape = PyTuple_GetItem(shapes, i);
    Py_ssize_t rank = 0;
    int rc = PyTuple_Check(shape) ? read_tuple(shape, extents[i], &rank) : -1;
    if (rc > 0)
      PyErr_Format(PyExc_ValueError,
                   "input %zd: rank above %d is not supported", i, MAX_RANK);
    if (rc < 0 && !PyErr_Occurred())
      PyErr_Format(PyExc_TypeError, "input %zd: expected a shape tuple", i);
    if (rc)
      goto done;
    tensors[i] =
        (winnow_tensor){WINNOW_DTYPE_F32, (size_t)rank, extents[i], NULL, 0};
  }
  values =
      PyMem_Malloc((info.num_symbols ? info.num_symbols : 1) * sizeof(int64_t));
  if (!values) {
    PyErr_NoMemory();
    goto done;
  }
  if ((status = winnow_module_bind_symbols(module, (size_t)function, tensors,
                                           (size_t)n, values))) {
    raise_status(status);
    goto done;
  }
  out = PyTuple_New((Py_ssize_t)info.num_results);
  for (size_t r = 0; out && r < info.num_results; ++r) {
    winnow_tensor_spec spec;
    status = winnow_module_get_result(module, (size_t)function, r, &spec);
    if (!status && spec.rank > MAX_RANK)
      PyErr_Format(PyExc_ValueError,
                   "result %zu: rank above %d is not supported", r, MAX_RANK);
    else if (!status)
      status = winnow_module_get_result_shape(module, (size_t)function, r,
                                              values, result);
    PyObject *shape = NULL;
    if (status)
      raise_status(status);
    else if (!PyErr_Occurred())
      shape = shape_tuple(spec.rank, result);
    if (!shape) {
      Py_CLEAR(out);
      break;
    }
    PyTuple_SetItem(out, (Py_ssize_t)r, shape);
  }
done:
  PyMem_Free(values);
  Py_DECREF(shapes);
  return out;
}

/*===--------------------------------------------------------------------===*
 * Tensors
 *===--------------------------------------------------------------------===*/

typedef struct Argument {
  DLTensor tensor;
  int64_t shape[MAX_RANK];
  int64_t strides[MAX_RANK];
  /* Set when the tensor came from __dlpack__: the consumed capsule. */
  DLManagedTensor *managed;
} Argument;

static void release_argument(Argument *argument) {
  if (argument->managed && argument->managed->deleter)
    argument->managed->deleter(argument->managed);
  argument->managed = NULL;
}

/* "function 'f' input 2 'hidden'" for messages raised before the runtime
 * sees the tensor. */
static PyObject *argument_label(winnow_executable *executable, size_t function,
                                int is_output, size_t index) {
  const winnow_module *module = NULL;
  winnow_function_info info;
  winnow_tensor_spec spec;
  if (winnow_executable_get_module(executable, &module) == WINNOW_OK &&
      winnow_module_get_function(module, function, &info) == WINNOW_OK &&
      (is_output ? winnow_module_get_result(module, function, index, &spec)
                 : winnow_module_get_input(module, function, index, &spec)) ==
          WINNOW_OK)
    return PyUnicode_FromFormat("function '%s' %s %zu '%s'", info.name,
                                is_output ? "output" : "input", index,
                                spec.name);
  return PyUnicode_FromFormat("%s %zu", is_output ? "output" : "input", index);
}

static int fail_argument(winnow_executable *executable, size_t function,
                         int is_output, size_t index, PyObject *cls,
                         const char *detail, PyObject *object) {
  PyObject *label = argument_label(executable, function, is_output, index);
  if (!label)
    return -1;
  PyObject *type = object ? PyObject_Type(object) : NULL;
  if (type) {
    PyObject *type_name = PyObject_GetAttrString(type, "__name__");
    PyErr_Format(cls, "%U: %s (got %S)", label, detail, type_name);
    Py_XDECREF(type_name);
    Py_DECREF(type);
  } else {
    PyErr_Format(cls, "%U: %s", label, detail);
  }
  Py_DECREF(label);
  return -1;
}

/* Reads a tuple of ints (a torch.Size is a tuple) into `out`; returns 1 for
 * more than MAX_RANK items. */
static int read_tuple(PyObject *tuple, int64_t *out, Py_ssize_t *count) {
  if (!PyTuple_Check(tuple)) {
    PyErr_SetString(PyExc_TypeError, "expected a tuple of extents");
    return -1;
  }
  Py_ssize_t n = PyTuple_Size(tuple);
  *count = n;
  if (n > MAX_RANK)
    return 1;
  for (Py_ssize_t d = 0; d < n; ++d) {
    out[d] = PyLong_AsLongLong(PyTuple_GetItem(tuple, d));
    if (out[d] == -1 && PyErr_Occurred())
      return -1;
  }
  return 0;
}

static PyObject *get_attribute(PyObject *object, PyObject *name, int call) {
  return call ? PyObject_CallMethodObjArgs(object, name, NULL)
              : PyObject_GetAttr(object, name);
}

/* Reads an attribute or the result of a no-argument method as a bool. */
static int read_bool(PyObject *object, PyObject *name, int call) {
  PyObject *value = get_attribute(object, name, call);
  if (!value)
    return -1;
  int truth = PyObject_IsTrue(value);
  Py_DECREF(value);
  return truth;
}

static long read_long(PyObject *object, PyObject *name, int call) {
  PyObject *value = get_attribute(object, name, call);
  if (!value)
    return -1;
  long result = PyLong_AsLong(value);
  Py_DECREF(value);
  return result;
}

/* A torch.Tensor, read through the cheapest of its attributes (about 0.4
 * us in all on PyTorch 1.13; `tensor.device.type` alone costs 0.6 us). */
static int from_torch(PyObject *object, Argument *argument) {
  DLTensor *tensor = &argument->tensor;
  PyObject *value = PyObject_CallMethodObjArgs(object, s_data_ptr, NULL);
  if (!value)
    return -1;
  tensor->data = PyLong_AsVoidPtr(value);
  Py_DECREF(value);
  if (PyErr_Occurred())
    return -1;
  tensor->byte_offset = 0;

  Py_ssize_t rank = 0, stride_rank = 0;
  if (!(value = PyObject_GetAttr(object, s_shape)))
    return -1;
  int rc = read_tuple(value, argument->shape, &rank);
  Py_DECREF(value);
  if (rc)
    return rc;
  tensor->ndim = (int32_t)rank;
  tensor->shape = argument->shape;
  /* Compact tensors pass no strides; the others pass theirs, which the
   * runtime names in its message. */
  int contiguous = read_bool(object, s_is_contiguous, 1);
  if (contiguous < 0)
    return -1;
  tensor->strides = NULL;
  if (!contiguous) {
    if (!(value = PyObject_CallMethodObjArgs(object, s_stride, NULL)))
      return -1;
    rc = read_tuple(value, argument->strides, &stride_rank);
    Py_DECREF(value);
    if (rc)
      return rc;
    tensor->strides = argument->strides;
  }

  if (!(value = PyObject_GetAttr(object, s_dtype)))
    return -1;
  PyObject *code = PyDict_GetItem(torch_dtypes, value); /* borrowed */
  Py_DECREF(value);
  if (!code)
    return 2;
  tensor->dtype.code = (uint8_t)PyLong_AsLong(PyTuple_GetItem(code, 0));
  tensor->dtype.bits = (uint8_t)PyLong_AsLong(PyTuple_GetItem(code, 1));
  tensor->dtype.lanes = 1;

  int is_cuda = read_bool(object, s_is_cuda, 0);
  if (is_cuda < 0)
    return -1;
  tensor->device.device_type = is_cuda ? kDLCUDA : kDLCPU;
  tensor->device.device_id = 0;
  if (is_cuda) {
    long ordinal = read_long(object, s_get_device, 1);
    if (ordinal < 0 && PyErr_Occurred())
      return -1;
    tensor->device.device_id = (int32_t)ordinal;
  } else if (!tensor->data) {
    /* No storage: a meta (or other non-CPU) tensor, or an empty one. */
    PyObject *device = PyObject_GetAttr(object, s_device);
    PyObject *type = device ? PyObject_GetAttr(device, s_type) : NULL;
    Py_XDECREF(device);
    if (!type)
      return -1;
    int is_cpu = PyObject_RichCompareBool(type, s_cpu, Py_EQ);
    Py_DECREF(type);
    if (is_cpu < 0)
      return -1;
    if (!is_cpu)
      return 3;
  }
  return 0;
}

/* Whether __dlpack_device__ says the object's memory is CUDA device or
 * managed memory (DLPack kDLCUDA 2, kDLCUDAManaged 13): only those take a
 * stream. 0 with no exception set otherwise. */
static int dlpack_on_cuda(PyObject *object) {
  PyObject *device = PyObject_CallMethod(object, "__dlpack_device__", NULL);
  if (!device) {
    PyErr_Clear(); /* no __dlpack_device__: assume device memory */
    return 1;
  }
  long type = -1;
  if (PyTuple_Check(device) && PyTuple_Size(device) >= 1)
    type = PyLong_AsLong(PyTuple_GetItem(device, 0));
  Py_DECREF(device);
  if (type == -1 && PyErr_Occurred())
    return 0;
  return type == kDLCUDA || type == kDLCUDAManaged;
}

/* Anything with __dlpack__; the capsule is consumed (renamed
 * "used_dltensor") and its deleter runs in release_argument. */
static int from_dlpack(PyObject *object, Argument *argument, int cuda,
                       intptr_t stream) {
  PyObject *method = PyObject_GetAttr(object, s_dlpack);
  if (!method) {
    PyErr_Clear();
    return 4;
  }
  PyObject *capsule;
  if (cuda && !dlpack_on_cuda(object)) {
    /* A host array for a CUDA executable: exported without a stream, so
     * the runtime's device check, not the producer, reports it. */
    if (PyErr_Occurred()) {
      Py_DECREF(method);
      return -1;
    }
    cuda = 0;
  }
  if (cuda) {
    /* The array API's stream number: 1 is CUDA's legacy default stream. */
    PyObject *kwargs =
        Py_BuildValue("{sn}", "stream", stream ? (Py_ssize_t)stream : 1);
    PyObject *empty = PyTuple_New(0);
    capsule = kwargs && empty ? PyObject_Call(method, empty, kwargs) : NULL;
    Py_XDECREF(kwargs);
    Py_XDECREF(empty);
  } else {
    capsule = PyObject_CallNoArgs(method);
  }
  Py_DECREF(method);
  if (!capsule)
    return -1;
  DLManagedTensor *managed = PyCapsule_GetPointer(capsule, "dltensor");
  if (!managed) {
    Py_DECREF(capsule);
    return -1;
  }
  if (PyCapsule_SetName(capsule, "used_dltensor")) {
    Py_DECREF(capsule);
    return -1;
  }
  Py_DECREF(capsule);
  argument->managed = managed;
  argument->tensor = managed->dl_tensor;
  return 0;
}

static int convert(winnow_executable *executable, size_t function,
                   int is_output, size_t index, PyObject *object,
                   Argument *argument, int cuda, intptr_t stream) {
  argument->managed = NULL;
  int rc;
  if (torch_tensor_type &&
      PyObject_TypeCheck(object, (PyTypeObject *)torch_tensor_type))
    rc = from_torch(object, argument);
  else
    rc = from_dlpack(object, argument, cuda, stream);
  switch (rc) {
  case 0:
  case -1:
    return rc;
  case 1:
    return fail_argument(executable, function, is_output, index,
                         PyExc_ValueError, "rank above 8 is not supported",
                         NULL);
  case 2:
    return fail_argument(executable, function, is_output, index,
                         PyExc_TypeError, "unsupported torch dtype", object);
  case 3:
    return fail_argument(
        executable, function, is_output, index, PyExc_ValueError,
        "tensor is neither on the CPU nor on a CUDA device", NULL);
  default:
    return fail_argument(executable, function, is_output, index,
                         PyExc_TypeError,
                         "expected a tensor (torch.Tensor, or an object with "
                         "__dlpack__ such as a NumPy array)",
                         object);
  }
}

/* Converts every item of `sequence`; returns how many were converted (all
 * of them, or -1 after releasing those). */
static int convert_all(winnow_executable *executable, size_t function,
                       int is_output, PyObject *sequence, Argument *arguments,
                       const DLTensor **pointers, int cuda, intptr_t stream) {
  PyObject *tuple = PySequence_Tuple(sequence);
  if (!tuple)
    return -1;
  Py_ssize_t n = PyTuple_Size(tuple);
  if (n > MAX_ARGS) {
    Py_DECREF(tuple);
    PyErr_Format(PyExc_ValueError, "more than %d %s", MAX_ARGS,
                 is_output ? "outputs" : "inputs");
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (convert(executable, function, is_output, (size_t)i,
                PyTuple_GetItem(tuple, i), &arguments[i], cuda, stream)) {
      while (i-- > 0)
        release_argument(&arguments[i]);
      Py_DECREF(tuple);
      return -1;
    }
    pointers[i] = &arguments[i].tensor;
  }
  Py_DECREF(tuple);
  return (int)n;
}

/* One call's tensors as DLTensors, inputs then outputs. */
typedef struct CallArguments {
  Argument in[MAX_ARGS], out[MAX_ARGS];
  const DLTensor *in_pointers[MAX_ARGS], *out_pointers[MAX_ARGS];
  int n_in, n_out;
} CallArguments;

static void release_call(CallArguments *call) {
  for (int i = 0; i < call->n_in; ++i)
    release_argument(&call->in[i]);
  for (int i = 0; i < call->n_out; ++i)
    release_argument(&call->out[i]);
}

/* Converts both sequences; on failure nothing stays held. */
static int convert_call(winnow_executable *executable, size_t function,
                        PyObject *inputs, PyObject *outputs, int cuda,
                        intptr_t stream, CallArguments *call) {
  call->n_out = 0;
  call->n_in = convert_all(executable, function, 0, inputs, call->in,
                           call->in_pointers, cuda, stream);
  if (call->n_in < 0)
    return -1;
  call->n_out = convert_all(executable, function, 1, outputs, call->out,
                            call->out_pointers, cuda, stream);
  if (call->n_out < 0) {
    call->n_out = 0;
    release_call(call);
    return -1;
  }
  return 0;
}

/* call(executable, function_index, inputs, outputs, stream, workspace,
 * workspace_bytes): runs the function on the tensors, writing the outputs.
 * `stream` is a CUstream as an int (0: the legacy default stream; must be 0
 * on the CPU); a nonzero `workspace` is caller device memory for the call's
 * scratch. The GIL is released while the runtime runs. */
static PyObject *call(PyObject *self, PyObject *args) {
  PyObject *capsule, *inputs, *outputs;
  Py_ssize_t function;
  Py_ssize_t stream = 0, workspace = 0, workspace_bytes = 0;
  int cuda = 0;
  if (!PyArg_ParseTuple(args, "OnOO|pnnn", &capsule, &function, &inputs,
                        &outputs, &cuda, &stream, &workspace, &workspace_bytes))
    return NULL;
  winnow_executable *executable =
      PyCapsule_GetPointer(capsule, EXECUTABLE_CAPSULE);
  if (!executable)
    return NULL;
  CallArguments a;
  if (convert_call(executable, (size_t)function, inputs, outputs, cuda, stream,
                   &a))
    return NULL;
  winnow_status status;
  /* Other Python threads run while the runtime does. */
  PyThreadState *thread = PyEval_SaveThread();
  if (workspace)
    status = winnow_call_dlpack_with_workspace(
        executable, (size_t)function, a.in_pointers, (size_t)a.n_in,
        a.out_pointers, (size_t)a.n_out, (void *)stream, (void *)workspace,
        (size_t)workspace_bytes);
  else
    status = winnow_call_dlpack_by_index(
        executable, (size_t)function, a.in_pointers, (size_t)a.n_in,
        a.out_pointers, (size_t)a.n_out, (void *)stream);
  PyEval_RestoreThread(thread);
  release_call(&a);
  if (status)
    return raise_status(status);
  Py_RETURN_NONE;
}

/* time_direct_call(executable, function_index, inputs, outputs,
 * iterations) -> seconds per call: the C API's own cost on tensors that are
 * already DLTensors, the baseline of the Python overhead benchmark
 * (bench/python_overhead.py). CPU executables only. */
static PyObject *time_direct_call(PyObject *self, PyObject *args) {
  PyObject *capsule, *inputs, *outputs;
  Py_ssize_t function, iterations;
  if (!PyArg_ParseTuple(args, "OnOOn", &capsule, &function, &inputs, &outputs,
                        &iterations))
    return NULL;
  winnow_executable *executable =
      PyCapsule_GetPointer(capsule, EXECUTABLE_CAPSULE);
  if (!executable)
    return NULL;
  CallArguments a;
  if (convert_call(executable, (size_t)function, inputs, outputs, 0, 0, &a))
    return NULL;
  winnow_status status = WINNOW_OK;
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (Py_ssize_t i = 0; i < iterations && !status; ++i)
    status = winnow_call_dlpack_by_index(executable, (size_t)function,
                                         a.in_pointers, (size_t)a.n_in,
                                         a.out_pointers, (size_t)a.n_out, NULL);
  clock_gettime(CLOCK_MONOTONIC, &end);
  release_call(&a);
  if (status)
    return raise_status(status);
  double seconds = (double)(end.tv_sec - start.tv_sec) +
                   1e-9 * (double)(end.tv_nsec - start.tv_nsec);
  return PyFloat_FromDouble(iterations > 0 ? seconds / (double)iterations
                                           : 0.0);
}

/*===--------------------------------------------------------------------===*
 * Module
 *===--------------------------------------------------------------------===*/

static PyMethodDef methods[] = {
    {"set_error_classes", set_error_classes, METH_O, NULL},
    {"set_torch", set_torch, METH_VARARGS, NULL},
    {"load_file", load_file, METH_VARARGS, NULL},
    {"load_memory", load_memory, METH_VARARGS, NULL},
    {"describe", describe, METH_O, NULL},
    {"result_shapes", result_shapes, METH_VARARGS, NULL},
    {"create_device", create_device, METH_VARARGS, NULL},
    {"device_info", device_info, METH_O, NULL},
    {"create_executable", create_executable, METH_VARARGS, NULL},
    {"workspace_size", workspace_size, METH_VARARGS, NULL},
    {"set_num_threads", set_num_threads, METH_VARARGS, NULL},
    {"num_threads", num_threads, METH_O, NULL},
    {"thread_stats", thread_stats, METH_NOARGS, NULL},
    {"call", call, METH_VARARGS, NULL},
    {"time_direct_call", time_direct_call, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "winnow._native",
    "The Winnow runtime's C API for the winnow package (internal).", -1,
    methods};

PyMODINIT_FUNC PyInit__native(void) {
  struct {
    PyObject **slot;
    const char *text;
  } names[] = {{&s_data_ptr, "data_ptr"},
               {&s_shape, "shape"},
               {&s_stride, "stride"},
               {&s_dtype, "dtype"},
               {&s_device, "device"},
               {&s_type, "type"},
               {&s_dlpack, "__dlpack__"},
               {&s_cpu, "cpu"},
               {&s_is_contiguous, "is_contiguous"},
               {&s_is_cuda, "is_cuda"},
               {&s_get_device, "get_device"}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i)
    if (!(*names[i].slot = PyUnicode_InternFromString(names[i].text)))
      return NULL;
  return PyModule_Create(&native_module);
}
