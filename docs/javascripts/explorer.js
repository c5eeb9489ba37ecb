/* The cell explorer of docs/explore.md: sliders for one unit of a cell, live values, a diagram,
 * one step's adjoints and a multi-step strip.
 *
 * Hand-written UI only. Every number comes from the generated explorer-cells.js
 * (window.lstmSymCells, printed from the SymPy derivation by `lstm-sym regenerate`): its forward
 * stages, its backward function and its local derivatives. No formula is typed here.
 *
 * Public API: window.lstmSymExplorer.evaluate(cell, inputs) → {forward, gradients}.
 */
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const own = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  // ---- arithmetic: thin wrappers around the generated cells --------------------------------

  function cellNamed(name) {
    const cells = window.lstmSymCells;
    if (!cells || typeof name !== "string" || !own(cells, name)) {
      throw new Error("unknown cell " + JSON.stringify(name));
    }
    return cells[name];
  }

  function finite(inputs, key) {
    if (!own(inputs, key)) throw new Error("inputs." + key + " is missing");
    const value = inputs[key];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error("inputs." + key + " must be a finite number");
    }
    return value;
  }

  function parameter(inputs, key, shape) {
    if (!own(inputs, key)) throw new Error("inputs." + key + " is missing");
    const value = inputs[key];
    const rows = shape.length === 2 ? value : [value];
    const width = shape[shape.length - 1];
    const ok =
      Array.isArray(value) &&
      value.length === shape[0] &&
      rows.every(
        (row) =>
          Array.isArray(row) &&
          row.length === width &&
          row.every((x) => typeof x === "number" && Number.isFinite(x)),
      );
    if (!ok) throw new Error("inputs." + key + " must be an array of shape " + JSON.stringify(shape));
    return shape.length === 2 ? value.map((row) => row.slice()) : value.slice();
  }

  /** Forward values in a fresh object: inputs, previous states and parameters first. */
  function forwardValues(cell, inputs, direct) {
    const v = Object.create(null);
    v[cell.input] = finite(inputs, cell.input);
    for (const state of cell.states) v[state + "_prev"] = finite(inputs, state + "_prev");
    for (const name of Object.keys(cell.parameters)) {
      v[name] = parameter(inputs, name, cell.parameters[name]);
    }
    for (const stage of cell.forward) {
      if (direct && stage.kind === "linear") {
        for (const target of stage.targets) v[target] = finite(inputs, target);
      } else {
        stage.run(v);
      }
    }
    return v;
  }

  function seeds(cell, inputs) {
    const seed = Object.create(null);
    for (const state of cell.states) seed[state] = finite(inputs, "d_" + state);
    return seed;
  }

  /**
   * One step of `cellName` at `inputs`, and its adjoints for the incoming gradients `d_<state>`.
   * Returns {forward: {value: number}, gradients: {param: array, input: number, <state>_prev:
   * number}}, the parameters' gradients in the NumPy kernels' shapes for H = D = 1.
   */
  function evaluate(cellName, inputs) {
    const cell = cellNamed(cellName);
    const v = forwardValues(cell, inputs, false);
    const back = cell.backward(v, seeds(cell, inputs));
    const forward = {};
    for (const name of cell.values) forward[name] = v[name];
    const gradients = {};
    for (const name of Object.keys(cell.parameters)) gradients[name] = back.gradients[name];
    gradients[cell.input] = back.gradients[cell.input];
    for (const state of cell.states) gradients[state + "_prev"] = back.gradients[state + "_prev"];
    const broken = notFinite({ forward: forward, gradients: gradients });
    if (broken.length) {
      // float64 overflows far outside the sliders' ranges (C_prev = 1e308 gives NaN): say so.
      throw new RangeError(
        "evaluate: inputs out of range, the result is not finite: " + broken.join(", ") +
          " (largest input: " + largestInput(inputs) + ")",
      );
    }
    return { forward: forward, gradients: gradients };
  }

  /** Paths ("gradients.W_f") of every number in `tree` that is NaN or infinite. */
  function notFinite(tree, path) {
    if (typeof tree === "number") return Number.isFinite(tree) ? [] : [path + " = " + tree];
    if (tree === null || typeof tree !== "object") return [];
    return Object.keys(tree).flatMap((k) => notFinite(tree[k], path ? path + "." + k : k));
  }

  function largestInput(inputs) {
    let best = null;
    const visit = (value, name) => {
      if (typeof value === "number") {
        if (best === null || Math.abs(value) > Math.abs(best[1])) best = [name, value];
      } else if (Array.isArray(value)) value.forEach((x) => visit(x, name));
    };
    for (const key of Object.keys(inputs)) visit(inputs[key], key);
    return best ? best[0] + " = " + best[1] : "none";
  }

  /**
   * Run `cellName` over the inputs `xs` from the previous states in `inputs`, then chain the
   * generated step adjoints backward from ∂h_T/∂h_T = 1. Returns per step t = 0 … T the states
   * and gates, and `grad[t][state]` = ∂h_T/∂state_t (t = 0 is the initial state).
   */
  function throughTime(cellName, inputs, xs) {
    const cell = cellNamed(cellName);
    const steps = [];
    let previous = Object.assign({}, inputs);
    for (const x of xs) {
      const stepInputs = Object.assign({}, previous, { [cell.input]: x });
      const v = forwardValues(cell, stepInputs, false);
      steps.push(v);
      previous = Object.assign({}, previous);
      for (const state of cell.states) previous[state + "_prev"] = v[state];
    }
    const grad = new Array(xs.length + 1);
    let seed = Object.create(null);
    for (const state of cell.states) seed[state] = state === cell.output ? 1 : 0;
    grad[xs.length] = Object.assign({}, seed);
    for (let t = xs.length - 1; t >= 0; t -= 1) {
      const back = cell.backward(steps[t], seed);
      seed = Object.create(null);
      for (const state of cell.states) seed[state] = back.gradients[state + "_prev"];
      grad[t] = Object.assign({}, seed);
    }
    const states = [Object.fromEntries(cell.states.map((s) => [s, inputs[s + "_prev"]]))];
    for (const v of steps) states.push(Object.fromEntries(cell.values.map((n) => [n, v[n]])));
    return { states: states, grad: grad };
  }

  // ---- page state -----------------------------------------------------------------------

  const RANGES = {
    input: [-2, 2, 0.01],
    state: [-2, 2, 0.01],
    weight: [-3, 3, 0.05],
    bias: [-5, 5, 0.05],
    pre: [-6, 6, 0.05],
    seed: [-2, 2, 0.05],
  };
  const RNN = "rnn";

  /** Slider descriptions of a cell: key, label, group, range, and how to read it into inputs. */
  function slidersOf(cell) {
    const list = [];
    list.push({ key: cell.input, label: cell.input, group: "inputs", range: RANGES.input });
    for (const s of cell.states) {
      list.push({ key: s + "_prev", label: s + "_prev", group: "inputs", range: RANGES.state });
    }
    const weights = new Set(cell.linearMaps.map((m) => m.weight));
    const operands = Object.fromEntries(cell.linearMaps.map((m) => [m.weight, m.operands]));
    for (const name of Object.keys(cell.parameters)) {
      const shape = cell.parameters[name];
      if (weights.has(name)) {
        operands[name].forEach((operand, k) => {
          list.push({
            key: name + "[0][" + k + "]",
            param: name,
            index: [0, k],
            label: name + " · " + operand,
            group: "weights",
            range: RANGES.weight,
          });
        });
      } else {
        list.push({ key: name + "[0]", param: name, index: [0], label: name, group: "weights",
          range: shape.length === 1 ? RANGES.bias : RANGES.weight });
      }
    }
    for (const m of cell.linearMaps) {
      list.push({ key: m.target, label: m.target, group: "direct", range: RANGES.pre });
    }
    for (const s of cell.states) {
      list.push({ key: "d_" + s, label: "d_" + s, group: "seeds", range: RANGES.seed });
    }
    return list;
  }

  function defaultValue(cell, slider, overrides) {
    // A page's defaults are clamped into the slider's range like any value a reader sets.
    const value = own(overrides, slider.key)
      ? overrides[slider.key]
      : slider.param && own(overrides, slider.param)
        ? slider.index.reduce((array, k) => (Array.isArray(array) ? array[k] : undefined), overrides[slider.param])
        : undefined;
    if (typeof value === "number" && Number.isFinite(value)) return clamp(value, slider.range);
    if (slider.group === "seeds") return slider.key === "d_" + cell.output ? 1 : 0;
    if (slider.group === "inputs") return slider.key === cell.input ? 1 : 0;
    if (slider.param && slider.index.length === 2) return 0.5;
    return 0;
  }

  /** The evaluate() inputs for the slider values `values` (keyed by slider key). */
  function inputsOf(cell, values) {
    const inputs = {};
    for (const slider of slidersOf(cell)) {
      if (slider.param) {
        const shape = cell.parameters[slider.param];
        if (!own(inputs, slider.param)) {
          inputs[slider.param] =
            shape.length === 2 ? [new Array(shape[1]).fill(0)] : new Array(shape[0]).fill(0);
        }
        if (slider.index.length === 2) inputs[slider.param][0][slider.index[1]] = values[slider.key];
        else inputs[slider.param][0] = values[slider.key];
      } else {
        inputs[slider.key] = values[slider.key];
      }
    }
    return inputs;
  }

  // ---- DOM helpers ----------------------------------------------------------------------

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    for (const child of children || []) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svgElement(tag, attributes) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    return node;
  }

  function format(x) {
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return "0";
    const size = Math.abs(x);
    return size >= 1e-3 && size < 1e4 ? x.toFixed(4) : x.toExponential(3);
  }

  /** Display `x` in `node`: rounded text, the exact number in data-value. */
  function show(node, x) {
    node.textContent = format(x);
    node.dataset.value = String(x);
  }

  function clamp(x, range) {
    const [min, max, step] = range;
    return Math.min(max, Math.max(min, Math.round(x / step) * step));
  }

  function seededRandom(seed) {
    let a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  let uid = 0;
  function slider(spec, value, onInput) {
    uid += 1;
    const id = "lse-slider-" + uid;
    const [min, max, step] = spec.range;
    const input = element("input", {
      type: "range",
      id: id,
      min: String(min),
      max: String(max),
      step: String(step),
      "data-key": spec.key,
    });
    input.value = String(value);
    const output = element("output", { for: id, class: "lse-slider__value" });
    const digits = step >= 1 ? 0 : 2;
    output.textContent = Number(input.value).toFixed(digits);
    input.addEventListener("input", () => {
      output.textContent = Number(input.value).toFixed(digits);
      onInput(spec.key, Number(input.value));
    });
    const label = element("label", { for: id, class: "lse-slider__label" }, [spec.label]);
    return element("div", { class: "lse-slider" }, [label, input, output]);
  }

  // ---- the one-step explorer ------------------------------------------------------------

  function Explorer(root) {
    this.root = root;
    this.cells = window.lstmSymCells;
    this.names = Object.keys(this.cells);
    let overrides = {};
    try {
      overrides = JSON.parse(root.dataset.defaults || "{}");
    } catch (error) {
      overrides = {};
    }
    this.overrides = overrides;
    this.values = {};
    for (const name of this.names) {
      const cell = this.cells[name];
      const values = {};
      const cellOverrides = own(overrides, name) ? overrides[name] : {};
      for (const s of slidersOf(cell)) values[s.key] = defaultValue(cell, s, cellOverrides);
      this.values[name] = values;
    }
    this.cellName = this.names.includes(root.dataset.cell) ? root.dataset.cell : this.names[0];
    this.direct = false;
    this.build();
  }

  Explorer.prototype.cell = function () {
    return this.cells[this.cellName];
  };

  Explorer.prototype.currentInputs = function () {
    return inputsOf(this.cell(), this.values[this.cellName]);
  };

  Explorer.prototype.build = function () {
    const root = this.root;
    root.replaceChildren();
    const picker = element("select", { id: "lse-cell", "data-role": "cell" });
    for (const name of this.names) {
      const option = element("option", { value: name }, [name + " — " + this.cells[name].title]);
      picker.append(option);
    }
    picker.value = this.cellName;
    picker.addEventListener("change", () => {
      this.cellName = picker.value;
      this.renderControls();
      this.update();
    });
    const mode = element("select", { id: "lse-mode", "data-role": "mode" }, [
      element("option", { value: "weights" }, ["weights and biases"]),
      element("option", { value: "direct" }, ["pre-activations directly"]),
    ]);
    mode.addEventListener("change", () => {
      if (mode.value === "direct" && !this.direct) {
        // Start the pre-activation sliders where the weights and biases put them.
        const { v } = this.evaluateNow();
        const values = this.values[this.cellName];
        for (const m of this.cell().linearMaps) values[m.target] = clamp(v[m.target], RANGES.pre);
      }
      this.direct = mode.value === "direct";
      this.renderControls();
      this.update();
    });
    root.append(
      element("div", { class: "lse-bar" }, [
        element("label", { for: "lse-cell" }, ["Cell "]),
        picker,
        element("label", { for: "lse-mode" }, ["Set "]),
        mode,
      ]),
    );
    this.summary = element("p", { class: "lse-summary" });
    this.warning = element("p", { class: "lse-warning", role: "alert", hidden: "" });
    this.controls = element("div", { class: "lse-controls" });
    this.figure = element("figure", { class: "lse-diagram" });
    this.tables = element("div", { class: "lse-tables" });
    root.append(this.summary, this.warning, this.controls, this.figure, this.tables);
    this.strip = new Strip(this, document.getElementById("lstm-sym-strip"));
    this.renderControls();
    this.update();
  };

  Explorer.prototype.renderControls = function () {
    const cell = this.cell();
    const link = element("a", { href: "../derivations/" + encodeURIComponent(cell.name) + "/" }, [
      "its equations and their derivation",
    ]);
    this.summary.replaceChildren(cell.summary + " See ", link, ".");
    const groups = [
      ["inputs", "Input and previous states"],
      [this.direct ? "direct" : "weights", this.direct ? "Pre-activations" : "Weights and biases"],
      ["seeds", "Incoming gradient (from the loss and the next step)"],
    ];
    this.controls.replaceChildren();
    const values = this.values[this.cellName];
    for (const [group, title] of groups) {
      const fieldset = element("fieldset", { class: "lse-group", "data-group": group }, [
        element("legend", {}, [title]),
      ]);
      for (const spec of slidersOf(cell).filter((s) => s.group === group)) {
        fieldset.append(
          slider(spec, values[spec.key], (key, value) => {
            values[key] = value;
            this.update();
          }),
        );
      }
      this.controls.append(fieldset);
    }
  };

  Explorer.prototype.evaluateNow = function () {
    const cell = this.cell();
    const values = this.values[this.cellName];
    const inputs = inputsOf(cell, values);
    if (this.direct) for (const m of cell.linearMaps) inputs[m.target] = values[m.target];
    const v = forwardValues(cell, inputs, this.direct);
    if (this.direct) {
      // Pre-activations set directly depend on nothing: no gradient flows back through W.
      for (const m of cell.linearMaps) v[m.weight] = v[m.weight].map((row) => row.map(() => 0));
    }
    const back = cell.backward(v, seeds(cell, inputs));
    return { v: v, back: back };
  };

  Explorer.prototype.update = function () {
    const cell = this.cell();
    const { v, back } = this.evaluateNow();
    const broken = notFinite({ values: v, adjoints: back.adjoints, gradients: back.gradients });
    this.warning.hidden = broken.length === 0;
    this.warning.textContent = broken.length
      ? "Out of range: these numbers are not finite, so the tables below cannot be trusted: " +
        broken.join(", ") + "."
      : "";
    const linear = new Set(cell.linearMaps.map((m) => m.target));
    const locals = cell.localDerivatives
      .filter((l) => !own(cell.parameters, l.wrt) && !(this.direct && linear.has(l.of)))
      .map((l) => ({ of: l.of, wrt: l.wrt, value: l.value(v) }));
    this.figure.replaceChildren(diagram(cell, v, back.adjoints, locals, this.direct));
    this.tables.replaceChildren(valueTable(cell, v, back.adjoints, back.gradients), localTable(locals));
    if (!this.direct) this.tables.append(gradientTable(cell, back.gradients));
    this.strip.update();
  };

  // ---- tables ---------------------------------------------------------------------------

  function table(caption, head, rows) {
    const body = element("tbody");
    for (const row of rows) body.append(row);
    return element("table", { class: "lse-table" }, [
      element("caption", {}, [caption]),
      element("thead", {}, [element("tr", {}, head.map((h) => element("th", { scope: "col" }, [h])))]),
      body,
    ]);
  }

  function numberCell(x, attributes) {
    const cell = element("td", Object.assign({ class: "lse-number" }, attributes || {}));
    show(cell, x);
    return cell;
  }

  function valueTable(cell, v, adjoints, gradients) {
    const names = [cell.input, ...cell.states.map((s) => s + "_prev"), ...cell.values];
    const rows = names.map((name) => {
      const doc = cell.docs[name] || cell.docs[name.replace(/_prev$/, "")] || "";
      return element("tr", { "data-name": name }, [
        element("th", { scope: "row" }, [name]),
        numberCell(v[name], { "data-output": "value-" + name }),
        adjointCell(name === cell.input ? gradients[name] : adjoints[name], name),
        element("td", { class: "lse-doc" }, [doc]),
      ]);
    });
    const result = table("Values of the step and their adjoints δ = ∂L/∂(value)", ["", "value", "δ", "what it is"], rows);
    result.classList.add("lse-table--wide");
    return result;
  }

  function adjointCell(x, name) {
    if (typeof x !== "number") return element("td", { class: "lse-number" }, ["—"]);
    return numberCell(x, { "data-output": "adjoint-" + name });
  }

  function localTable(locals) {
    const rows = locals.map((l) =>
      element("tr", {}, [element("th", { scope: "row" }, ["∂" + l.of + " / ∂" + l.wrt]), numberCell(l.value)]),
    );
    return table("Local derivatives", ["", "value"], rows);
  }

  function gradientTable(cell, gradients) {
    const rows = [];
    for (const name of Object.keys(cell.parameters)) {
      const flat = cell.parameters[name].length === 2 ? gradients[name][0] : gradients[name];
      rows.push(
        element("tr", {}, [
          element("th", { scope: "row" }, ["∂L/∂" + name]),
          element("td", { class: "lse-number" }, ["[" + flat.map(format).join(", ") + "]"]),
        ]),
      );
    }
    return table("Gradients of the parameters (this step)", ["", "value"], rows);
  }

  // ---- the diagram: a layered graph of the step, edges weighted by local derivatives --------

  function colourOf(x) {
    return x >= 0 ? "var(--lse-positive)" : "var(--lse-negative)";
  }

  function diagram(cell, v, adjoints, locals, direct) {
    const sources = [cell.input, ...cell.states.map((s) => s + "_prev")];
    const depth = Object.create(null);
    for (const name of sources) depth[name] = 0;
    const order = [...sources];
    for (const stage of cell.forward) {
      const reads = stage.reads.filter((r) => own(depth, r));
      const level = stage.kind === "linear" && direct ? 1 : 1 + Math.max(0, ...reads.map((r) => depth[r]));
      for (const target of stage.targets) {
        depth[target] = level;
        order.push(target);
      }
    }
    const columns = [];
    for (const name of order) (columns[depth[name]] = columns[depth[name]] || []).push(name);
    const colWidth = 112;
    const rowHeight = 54;
    const rows = Math.max(...columns.map((c) => c.length));
    const width = columns.length * colWidth;
    const height = rows * rowHeight + 8;
    const position = Object.create(null);
    columns.forEach((names, c) => {
      const offset = ((rows - names.length) * rowHeight) / 2;
      names.forEach((name, r) => {
        position[name] = [c * colWidth + 8, offset + r * rowHeight + 8];
      });
    });
    const svg = svgElement("svg", {
      viewBox: "0 0 " + width + " " + height,
      role: "img",
      "aria-label": "Computation graph of one step of " + cell.name,
      class: "lse-graph",
    });
    const nodeWidth = 84;
    const nodeHeight = 38;
    for (const l of locals) {
      if (direct && cell.linearMaps.some((m) => m.target === l.of)) continue;
      if (!position[l.of] || !position[l.wrt]) continue;
      const [x1, y1] = position[l.wrt];
      const [x2, y2] = position[l.of];
      const strength = Math.min(Math.abs(l.value), 2);
      const path = svgElement("path", {
        d:
          "M" + (x1 + nodeWidth) + "," + (y1 + nodeHeight / 2) +
          " C" + (x1 + nodeWidth + 20) + "," + (y1 + nodeHeight / 2) +
          " " + (x2 - 20) + "," + (y2 + nodeHeight / 2) +
          " " + x2 + "," + (y2 + nodeHeight / 2),
        class: "lse-edge",
        stroke: colourOf(l.value),
        "stroke-width": String(0.5 + 3 * strength),
        "data-edge": l.wrt + "->" + l.of,
      });
      const title = svgElement("title");
      title.textContent = "∂" + l.of + "/∂" + l.wrt + " = " + format(l.value);
      path.append(title);
      svg.append(path);
    }
    for (const name of order) {
      const [x, y] = position[name];
      const value = v[name];
      const group = svgElement("g", { class: "lse-node", "data-node": name });
      const kind = cell.states.includes(name) ? "state" : cell.gates.includes(name) ? "gate" : "value";
      group.append(
        svgElement("rect", {
          x: String(x), y: String(y), width: String(nodeWidth), height: String(nodeHeight), rx: "6",
          class: "lse-node__ground",
        }),
        svgElement("rect", {
          x: String(x), y: String(y), width: String(nodeWidth), height: String(nodeHeight), rx: "6",
          class: "lse-node__box lse-node__box--" + kind,
          "fill-opacity": String(0.15 + 0.6 * Math.min(Math.abs(value), 1)),
          fill: colourOf(value),
        }),
      );
      const label = svgElement("text", { x: String(x + 6), y: String(y + 15), class: "lse-node__name" });
      label.textContent = name;
      const number = svgElement("text", { x: String(x + 6), y: String(y + 31), class: "lse-node__value" });
      number.textContent = format(value);
      if (own(adjoints, name)) {
        const tip = svgElement("title");
        tip.textContent = name + " = " + format(value) + ", δ" + name + " = " + format(adjoints[name]);
        group.append(tip);
      }
      group.append(label, number);
      svg.append(group);
    }
    const caption = element("figcaption", {}, [
      "One step of " + cell.name + ", left to right. Boxes: values (fill: blue positive, " +
        "orange negative, stronger when larger); edges: local derivatives ∂(right)/∂(left), " +
        "thicker when larger in magnitude.",
    ]);
    const scroller = element("div", { class: "lse-scroll" }, [svg]);
    return element("div", {}, [scroller, caption]);
  }

  // ---- the multi-step strip -------------------------------------------------------------

  function Strip(explorer, root) {
    this.explorer = explorer;
    this.root = root;
    if (!root) return;
    this.length = 50;
    this.sequence = "spike";
    this.seed = 1;
    const cells = window.lstmSymCells;
    const rnn = cells[RNN];
    this.rnnValues = {};
    const overrides = own(explorer.overrides, RNN) ? explorer.overrides[RNN] : {};
    for (const s of slidersOf(rnn)) this.rnnValues[s.key] = defaultValue(rnn, s, overrides);
    this.build();
  }

  Strip.prototype.build = function () {
    const root = this.root;
    root.replaceChildren();
    const lengthSpec = { key: "T", label: "steps T", range: [2, 100, 1] };
    const sequence = element("select", { id: "lse-sequence" }, [
      element("option", { value: "spike" }, ["spike at t = 1, then 0"]),
      element("option", { value: "random" }, ["random in (−1, 1)"]),
    ]);
    sequence.addEventListener("change", () => {
      this.sequence = sequence.value;
      this.update();
    });
    const redraw = element("button", { type: "button", class: "md-button lse-button" }, ["New random draw"]);
    redraw.addEventListener("click", () => {
      this.seed += 1;
      this.sequence = "random";
      sequence.value = "random";
      this.update();
    });
    const rnnGroup = element("fieldset", { class: "lse-group" }, [
      element("legend", {}, ["The plain RNN beside it"]),
    ]);
    for (const spec of slidersOf(window.lstmSymCells[RNN]).filter((s) => s.group === "weights")) {
      rnnGroup.append(
        slider(spec, this.rnnValues[spec.key], (key, value) => {
          this.rnnValues[key] = value;
          this.update();
        }),
      );
    }
    const settings = element("fieldset", { class: "lse-group" }, [
      element("legend", {}, ["Sequence"]),
      slider(lengthSpec, this.length, (key, value) => {
        this.length = value;
        this.update();
      }),
      element("div", { class: "lse-slider" }, [
        element("label", { for: "lse-sequence", class: "lse-slider__label" }, ["inputs"]),
        sequence,
      ]),
      redraw,
    ]);
    this.plots = element("div", { class: "lse-plots" });
    this.readout = element("p", { class: "lse-readout", "aria-live": "polite" });
    root.append(element("div", { class: "lse-controls" }, [settings, rnnGroup]), this.plots, this.readout);
  };

  Strip.prototype.inputs = function () {
    if (this.sequence === "spike") {
      return Array.from({ length: this.length }, (_, t) => (t === 0 ? 1 : 0));
    }
    const random = seededRandom(this.seed);
    return Array.from({ length: this.length }, () => 2 * random() - 1);
  };

  Strip.prototype.update = function () {
    if (!this.root) return;
    const explorer = this.explorer;
    const cell = explorer.cell();
    const xs = this.inputs();
    const ours = throughTime(cell.name, explorer.currentInputs(), xs);
    const rnnCell = window.lstmSymCells[RNN];
    const rnnInputs = inputsOf(rnnCell, this.rnnValues);
    rnnInputs.h_prev = explorer.values[cell.name].h_prev || 0;
    const rnn = throughTime(RNN, rnnInputs, xs);
    // With the rnn itself selected, the comparison would repeat it: show it once.
    const beside = cell.name !== RNN;
    const steps = Array.from({ length: xs.length + 1 }, (_, t) => t);
    const series = (run, name) => steps.map((t) => run.states[t][name]);
    const plots = [];
    const available = this.plots.clientWidth;
    plots.push(
      plot("Output h_t", steps, [
        { label: cell.name + " " + cell.output, values: series(ours, cell.output), colour: 0 },
        ...(beside ? [{ label: "rnn h", values: series(rnn, "h"), colour: 3 }] : []),
      ], null, false, available),
    );
    const memory = cell.states.filter((s) => s !== cell.output && !cell.gates.includes(s));
    if (memory.length) {
      plots.push(
        plot(
          "State " + memory.join(", ") + "_t",
          steps,
          memory.map((s, k) => ({ label: cell.name + " " + s, values: series(ours, s), colour: (k + 1) % 3 })),
          null,
          false,
          available,
        ),
      );
    }
    if (cell.gates.length) {
      plots.push(
        plot(
          "Gates",
          steps.slice(1),
          cell.gates.map((g, k) => ({ label: g, values: series(ours, g).slice(1), colour: k % 4 })),
          [0, 1],
          false,
          available,
        ),
      );
    }
    const carried = cell.states.filter((s) => !cell.gates.includes(s));
    const gradients = carried.map((s, k) => ({
      label: cell.name + " |∂" + cell.output + "_T/∂" + s + "_t|",
      values: steps.map((t) => Math.abs(ours.grad[t][s])),
      colour: k % 3,
    }));
    if (beside) {
      gradients.push({
        label: "rnn |∂h_T/∂h_t|",
        values: steps.map((t) => Math.abs(rnn.grad[t].h)),
        colour: 3,
      });
    }
    plots.push(plot("Gradient of h_T reaching step t (log scale)", steps, gradients, null, true, available));
    this.plots.replaceChildren(...plots);
    const first = (run, s) => Math.abs(run.grad[0][s]);
    const parts = carried.map((s) => "|∂" + cell.output + "_T/∂" + s + "_0| = " + format(first(ours, s)));
    this.readout.textContent =
      "After T = " + xs.length + " steps, " + cell.name + ": " + parts.join(", ") +
      (beside ? "; rnn: |∂h_T/∂h_0| = " + format(first(rnn, "h")) : "") + "." +
      (beside ? "" : " (The RNN sliders below set the comparison RNN, shown for the other cells.)") +
      (explorer.direct ? " (The strip always runs on the weights and biases.)" : "");
  };

  // ---- a small line plot ------------------------------------------------------------------

  function plot(title, ts, lines, range, logarithmic, available) {
    const width = Math.max(300, Math.round(available || 640));
    const height = 180;
    const left = 52;
    const right = 10;
    const top = 10;
    const bottom = 24;
    const transform = logarithmic ? (y) => (y > 0 ? Math.log10(y) : NaN) : (y) => y;
    const all = lines.flatMap((l) => l.values.map(transform)).filter(Number.isFinite);
    let [low, high] = range || [Math.min(...all), Math.max(...all)];
    if (logarithmic) {
      high = Math.ceil(high);
      low = Math.floor(Math.max(low, high - 30));
    }
    if (high - low < 1e-9) {
      low -= 0.5;
      high += 0.5;
    }
    const xOf = (t) => left + ((t - ts[0]) / Math.max(ts[ts.length - 1] - ts[0], 1)) * (width - left - right);
    const yOf = (y) => top + (1 - (Math.min(Math.max(transform(y), low), high) - low) / (high - low)) * (height - top - bottom);
    const svg = svgElement("svg", { viewBox: "0 0 " + width + " " + height, class: "lse-plot", role: "img" });
    svg.setAttribute("aria-label", title);
    const axes = svgElement("path", {
      d: "M" + left + "," + top + " V" + (height - bottom) + " H" + (width - right),
      class: "lse-axis",
    });
    svg.append(axes);
    const every = logarithmic ? Math.max(1, Math.ceil((high - low) / 5)) : 0;
    const ticks = logarithmic ? [] : low < 0 && high > 0 ? [low, 0, high] : [low, high];
    for (let tick = high; logarithmic && tick >= low; tick -= every) ticks.push(tick);
    for (const value of ticks) {
      const y = top + (1 - (value - low) / (high - low)) * (height - top - bottom);
      svg.append(svgElement("path", { d: "M" + left + "," + y + " H" + (width - right), class: "lse-grid" }));
      const text = svgElement("text", { x: String(left - 4), y: String(y + 4), class: "lse-tick", "text-anchor": "end" });
      text.textContent = logarithmic ? "1e" + Math.round(value) : value.toFixed(2);
      svg.append(text);
    }
    for (const [t, anchor] of [[ts[0], "start"], [ts[ts.length - 1], "end"]]) {
      const text = svgElement("text", { x: String(xOf(t)), y: String(height - 6), class: "lse-tick", "text-anchor": anchor });
      text.textContent = "t = " + t;
      svg.append(text);
    }
    for (const line of lines) {
      // A value the scale cannot show (0 on a log scale) breaks the line.
      let path = "";
      let pen = "M";
      line.values.forEach((y, k) => {
        if (!Number.isFinite(transform(y))) {
          pen = "M";
          return;
        }
        path += pen + xOf(ts[k]).toFixed(1) + "," + yOf(y).toFixed(1) + " ";
        pen = "L";
      });
      svg.append(svgElement("path", { d: path, class: "lse-line lse-line--" + line.colour, fill: "none" }));
    }
    const legend = element(
      "ul",
      { class: "lse-legend" },
      lines.map((l) => element("li", { class: "lse-legend--" + l.colour }, [l.label])),
    );
    return element("figure", { class: "lse-plot-figure" }, [
      element("figcaption", {}, [title]),
      svg,
      legend,
    ]);
  }

  // ---- start ----------------------------------------------------------------------------

  // Material's instant navigation may run this file again on a later visit: keep one API.
  if (window.lstmSymExplorer && typeof window.lstmSymExplorer.start === "function") {
    window.lstmSymExplorer.start();
    return;
  }

  const api = {
    evaluate: evaluate,
    throughTime: throughTime,
    cells: () => Object.keys(window.lstmSymCells || {}),
    explorer: null,
    currentInputs: () => (api.explorer ? api.explorer.currentInputs() : null),
    cell: () => (api.explorer ? api.explorer.cellName : null),
  };
  window.lstmSymExplorer = api;

  function start() {
    const root = document.getElementById("lstm-sym-explorer");
    if (!root || root.dataset.started === "true") return;
    if (!window.lstmSymCells) {
      // Scripts inserted by instant navigation load in any order: wait for the arithmetic.
      const script = document.querySelector('script[src$="explorer-cells.js"]');
      if (script) script.addEventListener("load", start, { once: true });
      return;
    }
    root.dataset.started = "true";
    api.explorer = new Explorer(root);
  }
  api.start = start;

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(start);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
