package dev.tinygrad4j.nn;

import dev.tinygrad4j.Tensor;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's named tensors, as tinygrad's {@code nn.state} and PyTorch's {@code state_dict}.
 *
 * <p>A model is any object; its tensors are found by walking its fields. For a record these are its components;
 * for a class, its non-static, non-transient fields, superclass fields first, each class's in declaration order
 * (the order HotSpot's {@code getDeclaredFields} returns).
 * A field may hold a Tensor, another model, a List or an array of those, or a Map with String keys. Keys are
 * dotted paths in PyTorch's spelling: the field name in snake_case ({@code runningMean} → {@code running_mean}),
 * list and array indices, map keys as they are: {@code layers.0.weight}, {@code bn.running_mean}. Skipped: null,
 * primitives, strings, boxed numbers, booleans, enums, other JDK objects (except List, Map and arrays) and lambdas.
 * A model reached twice appears under each of its paths (as in PyTorch); a reference back to an object that
 * encloses it is skipped, so cycles end. Fields are read with reflection; a class in a named module must open its
 * package to tinygrad4j.
 */
public final class State {
  /** Last key parts that {@link #parameters} treats as buffers rather than trainable parameters. */
  public static final Set<String> BUFFER_NAMES = Set.of("running_mean", "running_var", "num_batches_tracked");

  private State() {}

  // ================================================================ walking a model
  /** The model's tensors by dotted key, in field order (see the class comment for the rules). */
  public static Map<String, Tensor> stateDict(Object model) {
    var out = new LinkedHashMap<String, Tensor>();
    walk(model, "", out, Collections.newSetFromMap(new IdentityHashMap<>()));
    return out;
  }

  private static String join(String prefix, String name) { return prefix.isEmpty() ? name : prefix + "." + name; }

  private static void walk(Object o, String key, Map<String, Tensor> out, Set<Object> enclosing) {
    switch (o) {
      case null -> {}
      case Tensor t -> out.put(key, t);
      case CharSequence _, Number _, Boolean _, Character _, Enum<?> _, Class<?> _ -> {}
      default -> {
        if (!enclosing.add(o)) return; // a cycle back to an enclosing object
        try {
          switch (o) {
            case List<?> list -> {
              int i = 0;
              for (var v : list) walk(v, join(key, Integer.toString(i++)), out, enclosing);
            }
            case Object[] array -> {
              for (int i = 0; i < array.length; i++) walk(array[i], join(key, Integer.toString(i)), out, enclosing);
            }
            case Map<?, ?> map -> {
              for (var e : map.entrySet()) {
                if (!(e.getKey() instanceof String k))
                  throw new IllegalArgumentException("stateDict: the map at '" + key + "' has a key of type "
                      + (e.getKey() == null ? "null" : e.getKey().getClass().getName()) + "; keys must be Strings");
                walk(e.getValue(), join(key, k), out, enclosing);
              }
            }
            default -> fields(o, key, out, enclosing);
          }
        } finally {
          enclosing.remove(o);
        }
      }
    }
  }

  private static boolean isJdk(Class<?> c) {
    var m = c.getModule();
    return m.isNamed() && (m.getName().startsWith("java.") || m.getName().startsWith("jdk."));
  }

  private static void fields(Object o, String key, Map<String, Tensor> out, Set<Object> enclosing) {
    var cls = o.getClass();
    if (cls.isArray() || cls.isHidden() || cls.isSynthetic() || isJdk(cls)) return; // primitive arrays, lambdas, JDK
    for (var f : modelFields(cls)) walk(read(f, o), join(key, snakeCase(f.getName())), out, enclosing);
  }

  /** The fields a model's state comes from: record components, or instance fields from the superclass down. */
  private static List<Field> modelFields(Class<?> cls) {
    var out = new ArrayList<Field>();
    if (cls.isRecord()) {
      for (var rc : cls.getRecordComponents()) {
        try {
          out.add(cls.getDeclaredField(rc.getName()));
        } catch (NoSuchFieldException e) {
          throw new IllegalStateException("stateDict: record " + cls.getName() + " has no field for component " + rc.getName(), e);
        }
      }
      return out;
    }
    var chain = new ArrayList<Class<?>>();
    for (var c = cls; c != null && !isJdk(c); c = c.getSuperclass()) chain.addFirst(c);
    for (var c : chain)
      for (var f : c.getDeclaredFields()) {
        int mod = f.getModifiers();
        if (!Modifier.isStatic(mod) && !Modifier.isTransient(mod) && !f.isSynthetic() && !f.getType().isPrimitive()) out.add(f);
      }
    return out;
  }

  private static Object read(Field f, Object o) {
    var where = f.getDeclaringClass().getName() + "." + f.getName();
    if (!f.trySetAccessible()) {
      var pkg = f.getDeclaringClass().getPackageName();
      throw new IllegalArgumentException("stateDict: cannot read field " + where + ": module "
          + f.getDeclaringClass().getModule().getName() + " does not open package " + pkg
          + " to tinygrad4j; add 'opens " + pkg + " to dev.tinygrad4j;' to its module-info.java");
    }
    try {
      return f.get(o);
    } catch (IllegalAccessException e) {
      throw new IllegalArgumentException("stateDict: cannot read field " + where + ": " + e.getMessage(), e);
    }
  }

  /** A Java field name in PyTorch's spelling: numBatchesTracked → num_batches_tracked, fc1Weight → fc1_weight. */
  static String snakeCase(String name) {
    var b = new StringBuilder(name.length() + 4);
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c)) {
        boolean afterWord = i > 0 && (Character.isLowerCase(name.charAt(i - 1)) || Character.isDigit(name.charAt(i - 1)));
        boolean endsAcronym = i > 0 && Character.isUpperCase(name.charAt(i - 1)) && i + 1 < name.length()
            && Character.isLowerCase(name.charAt(i + 1));
        if (afterWord || endsAcronym) b.append('_');
        b.append(Character.toLowerCase(c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  // ================================================================ loading
  /** {@link #loadStateDict(Object, Map, boolean)} with strict = true. */
  public static void loadStateDict(Object model, Map<String, Tensor> state) { loadStateDict(model, state, true); }

  /**
   * Copies each value of state into the model's tensor of the same key ({@code assign}, after moving it to that
   * tensor's device and casting it to its dtype), then realizes them all. Nothing is assigned unless every check
   * passes: shapes must match, and when strict, the keys must be exactly the model's. One error lists all missing
   * keys, unexpected keys and shape mismatches. Without strict, keys on only one side are ignored.
   */
  public static void loadStateDict(Object model, Map<String, Tensor> state, boolean strict) {
    var own = stateDict(model);
    var problems = new ArrayList<String>();
    if (strict) {
      var missing = own.keySet().stream().filter(k -> !state.containsKey(k)).toList();
      var unexpected = state.keySet().stream().filter(k -> !own.containsKey(k)).toList();
      if (!missing.isEmpty()) problems.add("missing keys " + missing);
      if (!unexpected.isEmpty()) problems.add("unexpected keys " + unexpected);
    }
    for (var e : own.entrySet()) {
      if (!state.containsKey(e.getKey())) continue;
      var value = state.get(e.getKey());
      if (value == null) problems.add("'" + e.getKey() + "' is null");
      else if (!Arrays.equals(value.shape(), e.getValue().shape()))
        problems.add("'" + e.getKey() + "' has shape " + Arrays.toString(value.shape()) + " but the model's tensor has shape "
            + Arrays.toString(e.getValue().shape()));
    }
    if (!problems.isEmpty()) throw new IllegalArgumentException("loadStateDict: " + String.join("; ", problems));

    var assigned = Collections.newSetFromMap(new IdentityHashMap<Tensor, Boolean>());
    for (var e : own.entrySet()) {
      var value = state.get(e.getKey());
      if (value == null) continue;
      var target = e.getValue();
      target.assign(value.to(target.device()));
      assigned.add(target);
    }
    Tensor.realizeAll(assigned.toArray(Tensor[]::new));
  }

  /**
   * The trainable tensors: those of the state dict whose dtype is float and whose last key part is not in
   * {@link #BUFFER_NAMES} (batch-norm statistics), each once even when reached under several keys.
   */
  public static List<Tensor> parameters(Object model) {
    var seen = Collections.newSetFromMap(new IdentityHashMap<Tensor, Boolean>());
    var out = new ArrayList<Tensor>();
    for (var e : stateDict(model).entrySet()) {
      var last = e.getKey().substring(e.getKey().lastIndexOf('.') + 1);
      if (e.getValue().dtype().isFloat() && !BUFFER_NAMES.contains(last) && seen.add(e.getValue())) out.add(e.getValue());
    }
    return out;
  }

  // ================================================================ files
  /** Saves the model's state dict to a safetensors file. */
  public static void save(Object model, Path file) { Safetensors.save(stateDict(model), file); }

  /** Loads a safetensors file into the model (strict: the file's keys must be exactly the model's). */
  public static void load(Object model, Path file) { loadStateDict(model, Safetensors.load(file)); }
}
