"""lists that stay one page of work in a large installation: the gallery filtered to a character
(PostgreSQL is told that a generation's character goes with its project, extended statistics, and
generations by (character, created_at, id) replace generations by character alone), the queue's fair
order (jobs by owner, priority and start, for each waiting owner's last start) and the finish estimates
(jobs by kind, state and finish, for the last runs of a kind)

A character's mockups are all in its project. Not knowing it, the planner multiplied the two filters'
shares, expected a few rows where a character's project holds a thousand, and sorted all of them for the
first page: 13 to 20 ms where the other sizes took half a millisecond (bench/scale_bench.py). The index in
the gallery's order lets it walk a character that is rare in its project page by page.

Whose turn it is in the queue depends on when each waiting owner's last job started; read over all of an
owner's jobs, a designer of 50,000 generations cost every queue position (every status poll) 50 ms.
With (owner_id, priority, started_at) it is one index step per owner and priority; on image jobs it
serves the lookups by owner too, so the owner_id index alone goes. The estimate on a
waiting job's page takes the median of the last 20 runs of its kind: without an index in finish order
PostgreSQL read all 61,100 succeeded generations of the benchmark to find them (32 ms a status poll).

Revision ID: 0014
Revises: 0013

"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

STATISTICS = 'st_generations_project_character'  # models.CHARACTER_FOLLOWS_PROJECT


def upgrade():
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_index('ix_generations_character')
        batch_op.create_index('ix_generations_character_created', ['character_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_generations_owner_started', ['owner_id', 'priority', 'started_at'], unique=False)
        batch_op.create_index('ix_generations_recent_runs', ['job_type', 'engine', 'status', 'finished_at'],
                              unique=False)
    with op.batch_alter_table('image_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_jobs_owner_id'))
        batch_op.create_index('ix_image_jobs_owner_started', ['owner_id', 'priority', 'started_at'], unique=False)
        batch_op.create_index('ix_image_jobs_recent_runs', ['job_type', 'status', 'finished_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'CREATE STATISTICS {STATISTICS} (dependencies) ON project_id, character_id FROM generations')
        op.execute('ANALYZE generations')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'DROP STATISTICS {STATISTICS}')
    with op.batch_alter_table('image_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_image_jobs_recent_runs')
        batch_op.drop_index('ix_image_jobs_owner_started')
        batch_op.create_index(batch_op.f('ix_image_jobs_owner_id'), ['owner_id'], unique=False)
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_index('ix_generations_recent_runs')
        batch_op.drop_index('ix_generations_owner_started')
        batch_op.drop_index('ix_generations_character_created')
        batch_op.create_index('ix_generations_character', ['character_id'], unique=False)
