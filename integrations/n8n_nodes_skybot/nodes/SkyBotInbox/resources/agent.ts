/**
 * AI agents: `/api/v1/agents` (create from a template with its config, show, update, list, and
 * activate or deactivate). Writes need an API key with the `admin` scope.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeProperties,
	INodePropertyOptions,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	chosenLimit,
	idList,
	jsonObject,
	paginationFields,
	recordId,
	renamed,
} from '../parameters';
import { apiRequest, apiRequestAllItems } from '../transport';

const CATEGORY_OPTIONS = [
	{ name: 'Custom', value: 'CUSTOM' },
	{ name: 'Finance', value: 'FINANCE' },
	{ name: 'HR', value: 'HR' },
	{ name: 'Intelligence', value: 'INTELLIGENCE' },
	{ name: 'Sales', value: 'SALES' },
	{ name: 'Support', value: 'SUPPORT' },
];

const STATUS_OPTIONS = [
	{ name: 'Active', value: 'active' },
	{ name: 'Deploying', value: 'deploying' },
	{ name: 'Draft', value: 'draft' },
	{ name: 'Failed', value: 'failed' },
	{ name: 'Inactive', value: 'inactive' },
];

const API_NAMES: Record<string, string> = {
	channelIds: 'channels',
	replyTimeoutSeconds: 'reply_timeout_seconds',
};

const CONFIG_DESCRIPTION =
	"The agent's settings as a JSON object; it must satisfy the template's config schema (GET /api/v1/agent-templates)";

const commonFields: INodeProperties[] = [
	{
		displayName: 'Channel IDs',
		name: 'channelIds',
		type: 'string',
		default: '',
		placeholder: '3, 5',
		description: 'IDs of the WhatsApp channels the agent answers, separated by commas',
	},
	{
		displayName: 'Description',
		name: 'description',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
	},
	{
		displayName: 'Reply Timeout (Seconds)',
		name: 'replyTimeoutSeconds',
		type: 'number',
		typeOptions: { minValue: 10, maxValue: 3600 },
		default: 120,
		description:
			'Hand the conversation to the team when the agent has not answered by then (10 to 3600)',
	},
];

const idOperations = ['get', 'update', 'activate', 'deactivate'];

export const agentOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['agent'] } },
		options: [
			{
				name: 'Activate',
				value: 'activate',
				description: 'Activate an inactive agent',
				action: 'Activate an agent',
			},
			{
				name: 'Create',
				value: 'create',
				description: 'Create an agent from a template; its deployment starts at once',
				action: 'Create an agent',
			},
			{
				name: 'Deactivate',
				value: 'deactivate',
				description: 'Deactivate an active agent: its conversations go to the team',
				action: 'Deactivate an agent',
			},
			{ name: 'Get', value: 'get', description: 'Get an agent', action: 'Get an agent' },
			{
				name: 'Get Many',
				value: 'getAll',
				description: 'Get many agents, newest first',
				action: 'Get many agents',
			},
			{
				name: 'Update',
				value: 'update',
				description: 'Update an agent',
				action: 'Update an agent',
			},
		],
		default: 'create',
	},
];

export const agentProperties: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'name',
		type: 'string',
		required: true,
		displayOptions: { show: { resource: ['agent'], operation: ['create'] } },
		default: '',
	},
	{
		displayName: 'Template Name or ID',
		name: 'template',
		type: 'options',
		required: true,
		typeOptions: { loadOptionsMethod: 'getAgentTemplates' },
		displayOptions: { show: { resource: ['agent'], operation: ['create'] } },
		default: '',
		description:
			'The kind of agent to create. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName: 'Config',
		name: 'config',
		type: 'json',
		required: true,
		displayOptions: { show: { resource: ['agent'], operation: ['create'] } },
		default: '{}',
		description: CONFIG_DESCRIPTION,
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		displayOptions: { show: { resource: ['agent'], operation: ['create'] } },
		default: {},
		options: commonFields,
	},
	{
		displayName: 'Agent ID',
		name: 'agentId',
		type: 'string',
		required: true,
		displayOptions: { show: { resource: ['agent'], operation: idOperations } },
		default: '',
	},
	{
		displayName: 'Update Fields',
		name: 'updateFields',
		type: 'collection',
		placeholder: 'Add Field',
		displayOptions: { show: { resource: ['agent'], operation: ['update'] } },
		default: {},
		options: [
			commonFields[0],
			{
				displayName: 'Config',
				name: 'config',
				type: 'json',
				default: '{}',
				description: `${CONFIG_DESCRIPTION}. An agent already deployed is redeployed with it.`,
			},
			commonFields[1],
			{
				displayName: 'Name',
				name: 'name',
				type: 'string',
				default: '',
			},
			commonFields[2],
		],
	},
	...paginationFields('agent'),
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		displayOptions: { show: { resource: ['agent'], operation: ['getAll'] } },
		default: {},
		options: [
			{
				displayName: 'Category',
				name: 'category',
				type: 'options',
				options: CATEGORY_OPTIONS,
				default: 'SALES',
				description: 'Only agents made from templates of this category',
			},
			{
				displayName: 'Status',
				name: 'status',
				type: 'options',
				options: STATUS_OPTIONS,
				default: 'active',
				description: 'Only agents with this status',
			},
		],
	},
];

/** The request body for the chosen agent fields, under the API's names. */
function agentBody(
	context: IExecuteFunctions,
	fields: IDataObject,
	itemIndex: number,
): IDataObject {
	const body = renamed(fields, API_NAMES);
	if ('config' in body) body.config = jsonObject(context, body.config, 'Config', itemIndex);
	if ('channels' in body) body.channels = idList(context, body.channels, 'Channel IDs', itemIndex);
	return body;
}

export async function executeAgent(
	this: IExecuteFunctions,
	operation: string,
	itemIndex: number,
): Promise<IDataObject | IDataObject[]> {
	if (operation === 'create') {
		const body = agentBody(
			this,
			{
				...(this.getNodeParameter('additionalFields', itemIndex, {}) as IDataObject),
				config: this.getNodeParameter('config', itemIndex, '{}'),
			},
			itemIndex,
		);
		body.name = this.getNodeParameter('name', itemIndex) as string;
		body.template = this.getNodeParameter('template', itemIndex) as string;
		return await apiRequest.call(this, 'POST', '/agents', body);
	}
	if (operation === 'getAll') {
		const filters = this.getNodeParameter('filters', itemIndex, {}) as IDataObject;
		const qs: IDataObject = {};
		if (filters.status) qs.status = filters.status;
		if (filters.category) qs.category = filters.category;
		return await apiRequestAllItems.call(this, '/agents', qs, chosenLimit(this, itemIndex));
	}
	const id = recordId(this, 'agentId', 'Agent ID', itemIndex);
	if (operation === 'get') {
		return await apiRequest.call(this, 'GET', `/agents/${id}`);
	}
	if (operation === 'update') {
		const fields = this.getNodeParameter('updateFields', itemIndex, {}) as IDataObject;
		if (!Object.keys(fields).length) {
			throw new NodeOperationError(this.getNode(), 'Choose at least one field to update', {
				itemIndex,
			});
		}
		return await apiRequest.call(
			this,
			'PATCH',
			`/agents/${id}`,
			agentBody(this, fields, itemIndex),
		);
	}
	if (operation === 'activate' || operation === 'deactivate') {
		return await apiRequest.call(this, 'POST', `/agents/${id}/${operation}`);
	}
	throw new NodeOperationError(this.getNode(), `Unknown agent operation "${operation}"`, {
		itemIndex,
	});
}

/** The template catalogue as options for "Template Name or ID". */
export async function getAgentTemplates(
	this: ILoadOptionsFunctions,
): Promise<INodePropertyOptions[]> {
	const templates = (await apiRequest.call(this, 'GET', '/agent-templates')) as unknown as Array<{
		key: string;
		name: string;
		category: string;
		description: string;
	}>;
	return templates.map((template) => ({
		name: `${template.name} (${template.category})`,
		value: template.key,
		description: template.description,
	}));
}
