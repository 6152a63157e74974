/*
 * gencfg - turns config/schema.yaml into the C of the configuration tree.
 *
 *   gencfg SCHEMA.yaml OUT.h OUT.c
 *
 * OUT.h defines struct moss_cfg (one nested struct per object, typed
 * fields); OUT.c defines the descriptor table moss_cfg_schema[] (path,
 * type, offset, default) declared in include/moss/cfg.h.  Host tool, run
 * at build time; the outputs are never committed.  The schema format is
 * described at the top of config/schema.yaml.  Any schema mistake is a
 * build error naming the entry.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_ENTRIES 1024
#define MAX_DEPTH 16

struct entry {
  char *path;
  const char *name; /* last component, inside path */
  char type;        /* b i d s o */
  char *def;        /* scalar text, NULL for objects and aliases */
  bool validate;
  char *alias; /* target path or NULL */
  int alias_idx;
  int depth;
  int parent;  /* -1 for top level */
  int end;     /* objects: one past the last descendant */
  bool stored; /* leaf with storage, or object with stored leaves */
  int line;
};

static struct entry ents[MAX_ENTRIES];
static int nents;
static const char *schema_file;

static void die(int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s:%d: ", schema_file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p == NULL) {
    perror("gencfg");
    exit(1);
  }
  memcpy(p, s, n);
  return p;
}

static const char *scalar(yaml_node_t *n) {
  return (const char *)n->data.scalar.value;
}

static int find(const char *path) {
  for (int i = 0; i < nents; i++)
    if (strcmp(ents[i].path, path) == 0)
      return i;
  return -1;
}

static bool valid_ident(const char *s, size_t n) {
  if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

static void parse_options(yaml_document_t *doc, yaml_node_t *m,
                          struct entry *e) {
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
       p < m->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);
    if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
      die(e->line, "%s: options must be key: scalar", e->path);
    const char *key = scalar(k), *val = scalar(v);
    if (strcmp(key, "title") == 0) {
      /* documentation only */
    } else if (strcmp(key, "validate") == 0) {
      e->validate = strcmp(val, "true") == 0;
    } else if (strcmp(key, "alias") == 0) {
      e->alias = xstrdup(val);
    } else {
      die(e->line, "%s: unknown option '%s'", e->path, key);
    }
  }
}

static void add_entry(yaml_document_t *doc, yaml_node_t *seq) {
  if (nents == MAX_ENTRIES)
    die(seq->start_mark.line + 1, "too many keys");
  struct entry *e = &ents[nents];
  memset(e, 0, sizeof(*e));
  e->line = (int)seq->start_mark.line + 1;
  e->alias_idx = -1;
  yaml_node_item_t *it = seq->data.sequence.items.start;
  int n = (int)(seq->data.sequence.items.top - it);
  if (n < 2)
    die(e->line, "entry needs at least [path, type]");
  yaml_node_t *np = yaml_document_get_node(doc, it[0]);
  yaml_node_t *nt = yaml_document_get_node(doc, it[1]);
  if (np->type != YAML_SCALAR_NODE || nt->type != YAML_SCALAR_NODE)
    die(e->line, "path and type must be scalars");
  e->path = xstrdup(scalar(np));
  const char *t = scalar(nt);
  if (strlen(t) != 1 || strchr("bidso", t[0]) == NULL)
    die(e->line, "%s: unknown type '%s'", e->path, t);
  e->type = t[0];
  for (int i = 2; i < n; i++) {
    yaml_node_t *x = yaml_document_get_node(doc, it[i]);
    if (x->type == YAML_MAPPING_NODE && i == n - 1) {
      parse_options(doc, x, e);
    } else if (x->type == YAML_SCALAR_NODE && i == 2) {
      e->def = xstrdup(scalar(x));
    } else {
      die(e->line, "%s: unexpected element %d", e->path, i + 1);
    }
  }
  if (find(e->path) >= 0)
    die(e->line, "%s: duplicate key", e->path);
  /* Place it in the tree: the parent must be the innermost open object. */
  const char *dot = strrchr(e->path, '.');
  e->name = dot ? dot + 1 : e->path;
  if (!valid_ident(e->name, strlen(e->name)))
    die(e->line, "%s: key names must be C identifiers", e->path);
  e->parent = -1;
  if (dot != NULL) {
    char *pp = xstrdup(e->path);
    pp[dot - e->path] = '\0';
    e->parent = find(pp);
    free(pp);
    if (e->parent < 0 || ents[e->parent].type != 'o')
      die(e->line, "%s: parent object not declared before it", e->path);
    if (ents[e->parent].end != 0)
      die(e->line, "%s: keys of an object must follow it directly", e->path);
    e->depth = ents[e->parent].depth + 1;
    if (e->depth >= MAX_DEPTH)
      die(e->line, "%s: too deep", e->path);
  }
  /* Close every object that is not an ancestor of this entry. */
  for (int i = 0; i < nents; i++) {
    if (ents[i].type != 'o' || ents[i].end != 0)
      continue;
    bool anc = false;
    for (int p = e->parent; p >= 0; p = ents[p].parent)
      if (p == i)
        anc = true;
    if (!anc)
      ents[i].end = nents;
  }
  if (e->type == 'o' && (e->def != NULL || e->alias != NULL))
    die(e->line, "%s: objects have no default or alias", e->path);
  if (e->type != 'o' && e->alias == NULL && e->def == NULL)
    die(e->line, "%s: default value required", e->path);
  if (e->alias != NULL && e->def != NULL)
    die(e->line, "%s: an alias has no default", e->path);
  nents++;
}

static void check_default(struct entry *e) {
  if (e->def == NULL)
    return;
  char *end;
  errno = 0;
  if (e->type == 'b') {
    if (strcmp(e->def, "true") != 0 && strcmp(e->def, "false") != 0)
      die(e->line, "%s: bool default must be true or false", e->path);
  } else if (e->type == 'i') {
    long long v = strtoll(e->def, &end, 0);
    if (errno || *end != '\0' || end == e->def || v < INT32_MIN ||
        v > INT32_MAX)
      die(e->line, "%s: bad int default '%s'", e->path, e->def);
  } else if (e->type == 'd') {
    strtod(e->def, &end);
    if (errno || *end != '\0' || end == e->def)
      die(e->line, "%s: bad number default '%s'", e->path, e->def);
  }
}

static void load(const char *file) {
  FILE *f = fopen(file, "rb");
  if (f == NULL) {
    fprintf(stderr, "gencfg: %s: %s\n", file, strerror(errno));
    exit(1);
  }
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_file(&parser, f);
  if (!yaml_parser_load(&parser, &doc))
    die((int)parser.problem_mark.line + 1, "YAML error: %s",
        parser.problem ? parser.problem : "?");
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (root == NULL || root->type != YAML_SEQUENCE_NODE)
    die(1, "the schema must be a list of entries");
  for (yaml_node_item_t *it = root->data.sequence.items.start;
       it < root->data.sequence.items.top; it++) {
    yaml_node_t *n = yaml_document_get_node(&doc, *it);
    if (n->type != YAML_SEQUENCE_NODE)
      die((int)n->start_mark.line + 1, "each entry must be a list");
    add_entry(&doc, n);
  }
  for (int i = 0; i < nents; i++)
    if (ents[i].type == 'o' && ents[i].end == 0)
      ents[i].end = nents;
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  fclose(f);
  for (int i = 0; i < nents; i++) {
    struct entry *e = &ents[i];
    check_default(e);
    if (e->alias != NULL) {
      e->alias_idx = find(e->alias);
      if (e->alias_idx < 0 || ents[e->alias_idx].alias != NULL ||
          ents[e->alias_idx].type != e->type)
        die(e->line,
            "%s: alias target must be a stored key of the same "
            "type",
            e->path);
    }
    if (e->type == 'o' && ents[i].end == i + 1)
      die(e->line, "%s: empty object", e->path);
  }
  /* An object is stored (has a struct) if any descendant leaf is. */
  for (int i = nents - 1; i >= 0; i--) {
    struct entry *e = &ents[i];
    if (e->type != 'o')
      e->stored = e->alias == NULL;
    if (e->stored && e->parent >= 0)
      ents[e->parent].stored = true;
  }
  if (nents == 0)
    die(1, "empty schema");
  if (nents > 32767)
    die(1, "too many keys");
}

/* The struct tag of an object: moss_cfg_<path with '.' -> '_'>. */
static void put_tag(FILE *o, const char *path) {
  fputs("moss_cfg_", o);
  for (const char *p = path; *p; p++)
    fputc(*p == '.' ? '_' : *p, o);
}

static const char *ctype(char t) {
  switch (t) {
    case 'b':
      return "bool";
    case 'i':
      return "int32_t";
    case 'd':
      return "double";
    default:
      return "const char *";
  }
}

/* Members of the object whose children are [from, to) at depth d. */
static void put_members(FILE *o, int from, int to) {
  for (int j = from; j < to;) {
    struct entry *c = &ents[j];
    if (c->stored) {
      if (c->type == 'o') {
        fputs("  struct ", o);
        put_tag(o, c->path);
        fprintf(o, " %s;\n", c->name);
      } else {
        const char *t = ctype(c->type);
        fprintf(o, "  %s%s%s;\n", t, t[strlen(t) - 1] == '*' ? "" : " ",
                c->name);
      }
    }
    j = c->type == 'o' ? c->end : j + 1;
  }
}

static void gen_header(FILE *o) {
  fprintf(o,
          "/* Generated by tools/gencfg from %s: do not edit. */\n"
          "#ifndef MOSS_CFG_SCHEMA_H\n#define MOSS_CFG_SCHEMA_H\n\n"
          "#include <stdbool.h>\n#include <stdint.h>\n\n"
          "#define MOSS_CFG_SCHEMA_LEN %d\n\n",
          schema_file, nents);
  /* Innermost objects first: C needs a struct defined before use. */
  for (int d = MAX_DEPTH - 1; d >= 0; d--) {
    for (int i = 0; i < nents; i++) {
      struct entry *e = &ents[i];
      if (e->type != 'o' || !e->stored || e->depth != d)
        continue;
      fputs("struct ", o);
      put_tag(o, e->path);
      fputs(" {\n", o);
      put_members(o, i + 1, e->end);
      fputs("};\n\n", o);
    }
  }
  fputs(
      "/* The whole configuration tree (see moss/cfg.h). */\n"
      "struct moss_cfg {\n",
      o);
  put_members(o, 0, nents);
  fputs("};\n\n#endif\n", o);
}

static void put_cstring(FILE *o, const char *s) {
  fputc('"', o);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    /* '?' escaped so that no trigraph can form. */
    if (*p == '"' || *p == '\\' || *p == '?')
      fprintf(o, "\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f)
      fprintf(o, "\\%03o", *p);
    else
      fputc(*p, o);
  }
  fputc('"', o);
}

static void gen_source(FILE *o) {
  static const char *types[] = {['o'] = "MOSS_CFG_T_OBJ",
                                ['b'] = "MOSS_CFG_T_BOOL",
                                ['i'] = "MOSS_CFG_T_INT",
                                ['d'] = "MOSS_CFG_T_DOUBLE",
                                ['s'] = "MOSS_CFG_T_STR"};
  fprintf(o,
          "/* Generated by tools/gencfg from %s: do not edit. */\n"
          "#include <stddef.h>\n\n#include \"moss/cfg.h\"\n\n"
          "const struct moss_cfg_desc moss_cfg_schema[] = {\n",
          schema_file);
  for (int i = 0; i < nents; i++) {
    struct entry *e = &ents[i];
    const struct entry *st = e->alias ? &ents[e->alias_idx] : e;
    fputs("  {.path = ", o);
    put_cstring(o, e->path);
    fprintf(o, ", .name_off = %d, .type = %s, .flags = %s,\n",
            (int)(e->name - e->path), types[(int)e->type],
            e->validate ? "MOSS_CFG_F_VALIDATE" : "0");
    fprintf(o, "   .depth = %d, .end = %d, .alias_of = %d", e->depth,
            e->type == 'o' ? e->end : 0, e->alias_idx);
    if (e->type != 'o')
      fprintf(o, ",\n   .offset = offsetof(struct moss_cfg, %s)", st->path);
    if (e->def != NULL) {
      switch (e->type) {
        case 'b':
          fprintf(o, ", .def.b = %s", e->def);
          break;
        case 'i':
          fprintf(o, ", .def.i = %lld", strtoll(e->def, NULL, 0));
          break;
        case 'd':
          fprintf(o, ", .def.d = %.17g", strtod(e->def, NULL));
          break;
        case 's':
          if (e->def[0] == '\0') {
            fputs(", .def.s = NULL", o);
          } else {
            fputs(", .def.s = ", o);
            put_cstring(o, e->def);
          }
          break;
      }
    }
    fputs("},\n", o);
  }
  fputs(
      "};\n\nconst size_t moss_cfg_schema_len =\n"
      "    sizeof(moss_cfg_schema) / sizeof(moss_cfg_schema[0]);\n",
      o);
}

static void write_file(const char *name, void (*fn)(FILE *)) {
  /* Write to a temporary and rename, so an interrupted build never
   * leaves a half file that make would consider up to date. */
  size_t n = strlen(name) + 5;
  char *tmp = malloc(n);
  if (tmp == NULL)
    exit(1);
  snprintf(tmp, n, "%s.tmp", name);
  FILE *o = fopen(tmp, "w");
  if (o == NULL) {
    fprintf(stderr, "gencfg: %s: %s\n", tmp, strerror(errno));
    exit(1);
  }
  fn(o);
  if (fclose(o) != 0 || rename(tmp, name) != 0) {
    fprintf(stderr, "gencfg: %s: %s\n", name, strerror(errno));
    exit(1);
  }
  free(tmp);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: gencfg SCHEMA.yaml OUT.h OUT.c\n");
    return 2;
  }
  schema_file = argv[1];
  load(argv[1]);
  write_file(argv[2], gen_header);
  write_file(argv[3], gen_source);
  return 0;
}
