//===- HostTensor.cpp - winnow-run's host tensors: parse, convert, save --===//

#include "HostTensor.h"

#include "winnow/support/Float16.h"
#include "winnow/support/Npy.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace winnow::run {

using namespace winnow::support;

namespace {

/// The NumPy dtype a user converts to for `dtype` (bf16 has none: it is
/// passed as raw '<u2' bits or as f32), or null.
const char *numpyTypeName(winnow_dtype dtype) {
  switch (dtype) {
  case WINNOW_DTYPE_F32:
    return "float32";
  case WINNOW_DTYPE_F16:
    return "float16";
  case WINNOW_DTYPE_F64:
    return "float64";
  case WINNOW_DTYPE_I1:
    return "bool_";
  case WINNOW_DTYPE_I8:
    return "int8";
  case WINNOW_DTYPE_I16:
    return "int16";
  case WINNOW_DTYPE_I32:
    return "int32";
  case WINNOW_DTYPE_I64:
    return "int64";
  default:
    return nullptr;
  }
}

template <typename T> T load(const uint8_t *p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

template <typename T> void store(uint8_t *p, T value) {
  std::memcpy(p, &value, sizeof(T));
}

std::string trim(const std::string &text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos)
    return "";
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> split(const std::string &text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos)
      return parts;
    start = end + 1;
  }
}

bool parseExtent(const std::string &text, int64_t &value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  errno = 0;
  char *end = nullptr;
  long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (errno == ERANGE)
    return false;
  value = parsed;
  return true;
}

/// Stores one inline value at element `index`.
bool storeInlineValue(const std::string &text, winnow_dtype dtype,
                      uint8_t *data, std::string &error) {
  if (dtype == WINNOW_DTYPE_I1) {
    if (text == "0" || text == "false") {
      *data = 0;
      return true;
    }
    if (text == "1" || text == "true") {
      *data = 1;
      return true;
    }
    error = "i1 value must be 0, 1, true or false, got '" + text + "'";
    return false;
  }
  if (isIntegerDType(dtype)) {
    errno = 0;
    char *end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') {
      error = "expected an integer, got '" + text + "'";
      return false;
    }
    size_t bits = winnow_dtype_element_size(dtype) * 8;
    long long max = bits == 64 ? std::numeric_limits<int64_t>::max()
                               : (1LL << (bits - 1)) - 1;
    long long min = -max - 1;
    if (errno == ERANGE || value < min || value > max) {
      error = "value " + text + " does not fit in " + winnow_dtype_name(dtype);
      return false;
    }
    switch (dtype) {
    case WINNOW_DTYPE_I8:
      store<int8_t>(data, static_cast<int8_t>(value));
      break;
    case WINNOW_DTYPE_I16:
      store<int16_t>(data, static_cast<int16_t>(value));
      break;
    case WINNOW_DTYPE_I32:
      store<int32_t>(data, static_cast<int32_t>(value));
      break;
    default:
      store<int64_t>(data, static_cast<int64_t>(value));
      break;
    }
    return true;
  }
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') {
    error = "expected a number, got '" + text + "'";
    return false;
  }
  switch (dtype) {
  case WINNOW_DTYPE_F64:
    store<double>(data, value);
    break;
  case WINNOW_DTYPE_F32:
    store<float>(data, static_cast<float>(value));
    break;
  case WINNOW_DTYPE_F16:
    store<uint16_t>(data, floatToHalf(static_cast<float>(value)));
    break;
  default:
    store<uint16_t>(data, floatToBFloat16(static_cast<float>(value)));
    break;
  }
  return true;
}

bool parseInlineInput(const std::string &text, const std::string &what,
                      HostTensor &out, std::string &error) {
  size_t equals = text.find('=');
  if (equals == std::string::npos) {
    error = what +
            ": expected '@file.npy' or 'SHAPExDTYPE=values' (e.g. "
            "'2x3xf32=1,2,3,4,5,6'), got '" +
            text + "'";
    return false;
  }
  std::vector<std::string> typeParts = split(text.substr(0, equals), 'x');
  winnow_dtype dtype;
  winnow_status status =
      winnow_dtype_from_name(typeParts.back().c_str(), &dtype);
  if (status != WINNOW_OK) {
    error = what + ": " + winnow_status_message(status) + " in '" +
            text.substr(0, equals) + "'";
    winnow_status_free(status);
    return false;
  }
  std::vector<int64_t> shape;
  for (size_t i = 0; i + 1 < typeParts.size(); ++i) {
    int64_t extent;
    if (!parseExtent(typeParts[i], extent)) {
      error = what + ": invalid extent '" + typeParts[i] + "' in '" +
              text.substr(0, equals) + "'";
      return false;
    }
    shape.push_back(extent);
  }
  // Bound the product before allocating (each extent is < 2^63 already).
  double bytes = static_cast<double>(winnow_dtype_element_size(dtype));
  for (int64_t extent : shape)
    bytes *= static_cast<double>(extent);
  if (bytes > static_cast<double>(std::numeric_limits<int64_t>::max())) {
    error = what + ": " + formatType(dtype, shape) + " is too large";
    return false;
  }
  out = makeZeroTensor(dtype, shape);
  int64_t count = out.elementCount();
  std::string valuesText = text.substr(equals + 1);
  std::vector<std::string> values;
  if (!trim(valuesText).empty())
    values = split(valuesText, ',');
  bool splat = values.size() == 1 && count != 1;
  if (!splat && static_cast<int64_t>(values.size()) != count) {
    error = what + ": " + formatType(dtype, shape) + " needs " +
            std::to_string(count) + " values (or one to fill it), got " +
            std::to_string(values.size());
    return false;
  }
  size_t elementSize = winnow_dtype_element_size(dtype);
  for (int64_t i = 0; i < count; ++i) {
    const std::string value = trim(values[splat ? 0 : i]);
    std::string detail;
    if (!storeInlineValue(value, dtype, out.data.data() + i * elementSize,
                          detail)) {
      error = what + ": value " + std::to_string(splat ? 0 : i) + ": " + detail;
      return false;
    }
    if (splat) {
      for (int64_t j = 1; j < count; ++j)
        std::memcpy(out.data.data() + j * elementSize, out.data.data(),
                    elementSize);
      break;
    }
  }
  return true;
}

bool parseNpyInput(const std::string &path, const winnow_tensor_spec &spec,
                   const std::string &what, HostTensor &out,
                   std::string &error) {
  NpyArray array;
  if (!readNpyFile(path, array, error)) {
    error = what + ": " + error;
    return false;
  }
  const char *wanted = winnow_dtype_name(spec.dtype);
  out.shape = array.shape;
  bool narrowFromF32 =
      array.descr == "<f4" &&
      (spec.dtype == WINNOW_DTYPE_BF16 || spec.dtype == WINNOW_DTYPE_F16);
  if (narrowFromF32) {
    // NumPy has no bf16, and f32 files are the common currency: convert,
    // rounding to nearest even like the compiler's own casts.
    out.dtype = spec.dtype;
    int64_t count = array.elementCount();
    out.data.resize(static_cast<size_t>(count) * 2);
    for (int64_t i = 0; i < count; ++i) {
      float value = load<float>(array.data.data() + 4 * i);
      store<uint16_t>(out.data.data() + 2 * i, spec.dtype == WINNOW_DTYPE_BF16
                                                   ? floatToBFloat16(value)
                                                   : floatToHalf(value));
    }
    return true;
  }
  if (array.descr == kBFloat16BitsDescr) {
    if (spec.dtype != WINNOW_DTYPE_BF16) {
      error = what +
              ": npy dtype '<u2' is only accepted as raw bf16 bits "
              "for a bf16 input, but this input is " +
              std::string(wanted);
      return false;
    }
    out.dtype = WINNOW_DTYPE_BF16;
  } else {
    out.dtype = *dtypeFromNpyDescr(array.descr);
  }
  if (out.dtype != spec.dtype) {
    error = what + ": expected dtype " + wanted + ", but '" + path +
            "' holds " + winnow_dtype_name(out.dtype) + " (npy '" +
            array.descr + "')";
    // NumPy's default integer is int64; the conversion is the user's to make
    // (winnow-run never converts implicitly).
    if (const char *numpy = numpyTypeName(spec.dtype))
      error += "; convert it with `.astype(np." + std::string(numpy) +
               ")` before saving";
    return false;
  }
  out.data = std::move(array.data);
  return true;
}

} // namespace

int64_t HostTensor::elementCount() const {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

winnow_tensor HostTensor::view() {
  return winnow_tensor{dtype, shape.size(), shape.data(), data.data(),
                       data.size()};
}

double HostTensor::valueAsDouble(int64_t i) const {
  const uint8_t *p = data.data() + i * winnow_dtype_element_size(dtype);
  switch (dtype) {
  case WINNOW_DTYPE_F32:
    return load<float>(p);
  case WINNOW_DTYPE_F16:
    return halfToFloat(load<uint16_t>(p));
  case WINNOW_DTYPE_BF16:
    return bfloat16ToFloat(load<uint16_t>(p));
  case WINNOW_DTYPE_F64:
    return load<double>(p);
  case WINNOW_DTYPE_I1:
    return *p;
  case WINNOW_DTYPE_I8:
    return load<int8_t>(p);
  case WINNOW_DTYPE_I16:
    return load<int16_t>(p);
  case WINNOW_DTYPE_I32:
    return load<int32_t>(p);
  case WINNOW_DTYPE_I64:
    return static_cast<double>(load<int64_t>(p));
  case WINNOW_DTYPE_MAX_ENUM:
    break;
  }
  return 0;
}

bool isIntegerDType(winnow_dtype dtype) {
  return dtype == WINNOW_DTYPE_I1 || dtype == WINNOW_DTYPE_I8 ||
         dtype == WINNOW_DTYPE_I16 || dtype == WINNOW_DTYPE_I32 ||
         dtype == WINNOW_DTYPE_I64;
}

std::string formatType(winnow_dtype dtype, const std::vector<int64_t> &shape) {
  std::string text;
  for (int64_t extent : shape)
    text += std::to_string(extent) + "x";
  const char *name = winnow_dtype_name(dtype);
  return text + (name ? name : "?");
}

HostTensor makeZeroTensor(winnow_dtype dtype,
                          const std::vector<int64_t> &shape) {
  HostTensor tensor;
  tensor.dtype = dtype;
  tensor.shape = shape;
  tensor.data.assign(static_cast<size_t>(tensor.elementCount()) *
                         winnow_dtype_element_size(dtype),
                     0);
  return tensor;
}

bool parseInput(const std::string &text, const winnow_tensor_spec &spec,
                const std::string &what, HostTensor &out, std::string &error) {
  if (!text.empty() && text[0] == '@')
    return parseNpyInput(text.substr(1), spec, what, out, error);
  return parseInlineInput(text, what, out, error);
}

bool writeResult(const std::string &path, const HostTensor &tensor,
                 bool rawBf16, std::string &error) {
  if (tensor.dtype == WINNOW_DTYPE_BF16 && !rawBf16) {
    std::vector<float> widened(static_cast<size_t>(tensor.elementCount()));
    for (size_t i = 0; i < widened.size(); ++i)
      widened[i] = bfloat16ToFloat(load<uint16_t>(tensor.data.data() + 2 * i));
    return writeNpyFile(path, "<f4", tensor.shape, widened.data(),
                        widened.size() * sizeof(float), error);
  }
  return writeNpyFile(path, npyDescrForDType(tensor.dtype), tensor.shape,
                      tensor.data.data(), tensor.data.size(), error);
}

} // namespace winnow::run
